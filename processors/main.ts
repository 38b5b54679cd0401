import type { Registry } from 'prom-client'
import { AvroCodec, createSchemaRegistry } from '../core/avro-codec.js'
import { connectOrExplain, createKafkaClient, createProducer, ensureTopics } from '../core/kafka.js'
import type { Logger } from '../core/logger.js'
import type { PeregrineConfig } from '../core/peregrine-config.js'
import { closeAll } from '../core/shutdown.js'
import { ALERT_SCHEMA, SYSCALL_EVENT_SCHEMA } from '../schemas/index.js'
import type { Alert, SyscallEvent } from '../schemas/types.js'
import type { RuleEvaluator } from './alert-builder.js'
import { createProcessorMetrics } from './metrics.js'
import { RuleProcessor } from './rule-processor.js'
import type { ProcessorStats } from './rule-processor.js'

/** Events evaluated between two alert writes; bounds the alerts held in memory. */
const CHUNK_EVENTS = 500

export interface ProcessorRun {
  config: PeregrineConfig
  logger: Logger
  metricsRegistry: Registry
  rules: RuleEvaluator
  /** Consumer group; defaults to processor.groupId. */
  groupId?: string
}

export interface RunningProcessor {
  stats: () => ProcessorStats
  /** Stops consuming, lets the batch in hand finish and commit, then disconnects. Idempotent. */
  close: () => Promise<void>
}

/**
 * Starts the processor role: registers the event and alert schemas (so the alert id is known and
 * the event subject exists before any event arrives), creates missing topics, joins the consumer
 * group and starts evaluating. Throws KafkaError or SchemaError when start-up fails for good.
 */
export async function startProcessor(run: ProcessorRun): Promise<RunningProcessor> {
  const { config } = run
  const logger = run.logger
  const roleLogger = run.logger.child({ component: 'processor' })
  const groupId = run.groupId ?? config.processor.groupId
  const client = createKafkaClient(config, 'processor', logger)
  const consumer = client.consumer({ groupId })
  const producer = createProducer(client)
  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= closeAll([
      { close: () => consumer.disconnect() },
      { close: () => producer.disconnect() },
    ])
    return closing
  }

  try {
    await ensureTopics(client, config, [
      config.topics.events,
      config.topics.alerts,
      config.topics.eventsDeadLetter,
    ])
    const registry = createSchemaRegistry(config.registry)
    const eventCodec = await AvroCodec.register<SyscallEvent>(
      registry,
      `${config.topics.events}-value`,
      SYSCALL_EVENT_SCHEMA,
    )
    const alertCodec = await AvroCodec.register<Alert>(
      registry,
      `${config.topics.alerts}-value`,
      ALERT_SCHEMA,
    )
    await connectOrExplain(() => producer.connect(), config)
    await connectOrExplain(() => consumer.connect(), config)

    const processor = new RuleProcessor({
      consumer,
      producer,
      eventCodec,
      alertCodec,
      rules: run.rules,
      settings: {
        eventsTopic: config.topics.events,
        alertsTopic: config.topics.alerts,
        deadLetterTopic: config.topics.eventsDeadLetter,
        chunkEvents: CHUNK_EVENTS,
      },
      metrics: createProcessorMetrics(run.metricsRegistry),
      logger,
    })
    await processor.start()
    roleLogger.info(
      { groupId, topic: config.topics.events, alertsTopic: config.topics.alerts },
      'processor started',
    )
    return { stats: () => processor.stats(), close }
  } catch (error) {
    await close().catch(() => {
      // The start-up error is the one to report; a failed disconnect after it adds nothing.
    })
    throw error
  }
}
