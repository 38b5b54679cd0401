import type { Registry } from 'prom-client'
import { AvroCodec, createSchemaRegistry } from '../core/avro-codec.js'
import { ConfigError } from '../core/errors.js'
import { connectOrExplain, createKafkaClient, createProducer, ensureTopics } from '../core/kafka.js'
import type { Logger } from '../core/logger.js'
import type { PeregrineConfig } from '../core/peregrine-config.js'
import { closeAll } from '../core/shutdown.js'
import { createSinkMetrics } from '../core/sink-metrics.js'
import { SinkRunner } from '../core/sink-runner.js'
import type { SinkDestination, SinkStats } from '../core/sink-runner.js'
import { ALERT_SCHEMA } from '../schemas/index.js'
import type { Alert } from '../schemas/types.js'

/** Sink names become topic and group suffixes, so they keep to Kafka's topic characters. */
const SINK_NAME_PATTERN = /^[a-zA-Z0-9._-]{1,100}$/

export interface SinkRun {
  config: PeregrineConfig
  logger: Logger
  metricsRegistry: Registry
  destination: SinkDestination
  /** Consumer group; defaults to sink.groupIdPrefix plus the destination name. */
  groupId?: string
}

export interface RunningSink {
  stats: () => SinkStats
  /** Stops consuming, ends retry waits, disconnects and closes the destination. Idempotent. */
  close: () => Promise<void>
}

/**
 * Starts one sink: its own consumer group on the alerts topic, so a slow destination never holds
 * back another, and its own dead-letter topic. Throws KafkaError or SchemaError when start-up fails.
 */
export async function startSink(run: SinkRun): Promise<RunningSink> {
  const { config, destination } = run
  if (!SINK_NAME_PATTERN.test(destination.name)) {
    throw new ConfigError(
      `sink name "${destination.name}" is invalid; use letters, digits, dots, dashes and underscores`,
    )
  }
  const logger = run.logger
  const roleLogger = run.logger.child({ component: 'sink', sink: destination.name })
  const groupId = run.groupId ?? `${config.sink.groupIdPrefix}${destination.name}`
  const deadLetterTopic = `${config.topics.alertsDeadLetterPrefix}${destination.name}`
  const client = createKafkaClient(config, `sink-${destination.name}`, logger)
  const consumer = client.consumer({ groupId })
  const producer = createProducer(client)
  let runner: SinkRunner | undefined
  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    runner?.stop()
    closing ??= closeAll([
      { close: () => consumer.disconnect() },
      { close: () => producer.disconnect() },
      { close: async () => await destination.close?.() },
    ])
    return closing
  }

  try {
    await ensureTopics(client, config, [config.topics.alerts, deadLetterTopic])
    const registry = createSchemaRegistry(config.registry)
    const codec = await AvroCodec.register<Alert>(
      registry,
      `${config.topics.alerts}-value`,
      ALERT_SCHEMA,
    )
    await connectOrExplain(() => producer.connect(), config)
    await connectOrExplain(() => consumer.connect(), config)

    runner = new SinkRunner({
      consumer,
      producer,
      codec,
      destination,
      settings: {
        alertsTopic: config.topics.alerts,
        deadLetterTopic,
        minPriority: config.sink.minPriority,
        maxAttempts: config.sink.maxAttempts,
        retryInitialMs: config.sink.retryInitialMs,
        retryMaxMs: config.sink.retryMaxMs,
      },
      metrics: createSinkMetrics(run.metricsRegistry),
      logger,
    })
    await runner.start()
    roleLogger.info(
      {
        groupId,
        topic: config.topics.alerts,
        deadLetterTopic,
        minPriority: config.sink.minPriority,
      },
      'sink started',
    )
    const started = runner
    return { stats: () => started.stats(), close }
  } catch (error) {
    await close().catch(() => {
      // The start-up error is the one to report; a failed disconnect after it adds nothing.
    })
    throw error
  }
}
