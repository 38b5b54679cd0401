import type { Registry } from 'prom-client'
import { AvroCodec, createSchemaRegistry } from '../core/avro-codec.js'
import { connectOrExplain, createKafkaClient, createProducer, ensureTopics } from '../core/kafka.js'
import type { Logger } from '../core/logger.js'
import type { PeregrineConfig } from '../core/peregrine-config.js'
import { closeAll } from '../core/shutdown.js'
import { SYSCALL_EVENT_SCHEMA } from '../schemas/index.js'
import type { SyscallEvent } from '../schemas/types.js'
import { EventPublisher } from './event-publisher.js'
import type { PublishSummary } from './event-publisher.js'
import type { EventSource } from './event-source.js'
import { createProducerMetrics } from './metrics.js'

export interface ProducerRun {
  config: PeregrineConfig
  logger: Logger
  metricsRegistry: Registry
  source: EventSource
  signal: AbortSignal
}

/**
 * Runs the producer role: registers the event schema, creates missing topics, then publishes the
 * source's events until it ends or the signal aborts. Closes the source and the Kafka client on
 * every path. Throws KafkaError or SchemaError when Kafka or the registry fail for good.
 */
export async function runProducer(run: ProducerRun): Promise<PublishSummary> {
  const { config, signal, source } = run
  const logger = run.logger
  const roleLogger = run.logger.child({ component: 'producer' })
  const client = createKafkaClient(config, 'producer', logger)
  const producer = createProducer(client)

  try {
    await ensureTopics(client, config, [config.topics.events, config.topics.eventsDeadLetter])
    const registry = createSchemaRegistry(config.registry)
    const codec = await AvroCodec.register<SyscallEvent>(
      registry,
      `${config.topics.events}-value`,
      SYSCALL_EVENT_SCHEMA,
    )
    await connectOrExplain(() => producer.connect(), config)
    roleLogger.info(
      { source: source.name, topic: config.topics.events, schemaId: codec.schemaId },
      'producer started',
    )

    const publisher = new EventPublisher(
      producer,
      codec,
      {
        topic: config.topics.events,
        deadLetterTopic: config.topics.eventsDeadLetter,
        compression: config.producer.compression,
        maxBatchEvents: config.producer.maxBatchEvents,
        maxBatchBytes: config.producer.maxBatchBytes,
        flushIntervalMs: config.producer.flushIntervalMs,
        maxBufferedEvents: config.producer.maxBufferedEvents,
      },
      createProducerMetrics(run.metricsRegistry),
      logger,
    )
    const summary = await publisher.publish(source, signal)
    roleLogger.info({ ...summary, sourceStats: source.stats() }, 'source finished')
    return summary
  } finally {
    await closeAll([source, { close: () => producer.disconnect() }])
  }
}
