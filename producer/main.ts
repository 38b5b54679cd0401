import { hostname as machineName } from 'node:os'
import type { Producer } from 'kafkajs'
import type { Registry } from 'prom-client'
import { AvroCodec, createSchemaRegistry } from '../core/avro-codec.js'
import { connectOrExplain, createKafkaClient, createProducer, ensureTopics } from '../core/kafka.js'
import type { Logger } from '../core/logger.js'
import type { PeregrineConfig } from '../core/peregrine-config.js'
import { closeAll } from '../core/shutdown.js'
import { ALERT_SCHEMA, SYSCALL_EVENT_SCHEMA } from '../schemas/index.js'
import type { Alert, SyscallEvent } from '../schemas/types.js'
import { DropMonitor } from './drop-monitor.js'
import { EventPublisher } from './event-publisher.js'
import type { PublishSummary } from './event-publisher.js'
import type { EventSource } from './event-source.js'
import { createProducerMetrics } from './metrics.js'
import type { ProducerMetrics } from './metrics.js'

export interface ProducerRun {
  config: PeregrineConfig
  logger: Logger
  metricsRegistry: Registry
  source: EventSource
  signal: AbortSignal
}

/**
 * Runs the producer role: registers the event schema, creates missing topics, then publishes the
 * source's events until it ends or the signal aborts. For a live source it also watches the drop
 * counters and publishes Falco's syscall event drop alert to the alerts topic. Closes the source
 * and the Kafka client on every path. Throws KafkaError or SchemaError when Kafka or the registry
 * fail for good.
 */
export async function runProducer(run: ProducerRun): Promise<PublishSummary> {
  const { config, signal, source } = run
  const logger = run.logger
  const roleLogger = run.logger.child({ component: 'producer' })
  const client = createKafkaClient(config, 'producer', logger)
  const producer = createProducer(client)
  const isLive = source.isLive === true
  let monitor: DropMonitor | undefined

  try {
    const topics = [config.topics.events, config.topics.eventsDeadLetter]
    await ensureTopics(client, config, isLive ? [...topics, config.topics.alerts] : topics)
    const registry = createSchemaRegistry(config.registry)
    const codec = await AvroCodec.register<SyscallEvent>(
      registry,
      `${config.topics.events}-value`,
      SYSCALL_EVENT_SCHEMA,
    )
    const alertCodec = isLive
      ? await AvroCodec.register<Alert>(registry, `${config.topics.alerts}-value`, ALERT_SCHEMA)
      : undefined
    await connectOrExplain(() => producer.connect(), config)
    roleLogger.info(
      { source: source.name, topic: config.topics.events, schemaId: codec.schemaId },
      'producer started',
    )

    const metrics = createProducerMetrics(run.metricsRegistry)
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
        fairShareEventsPerSecond: config.producer.fairShareEventsPerSecond,
      },
      metrics,
      logger,
    )
    if (alertCodec !== undefined) {
      monitor = startDropMonitor(run, publisher, metrics, (alert) =>
        publishAlert(producer, alertCodec, alert, config, metrics, roleLogger),
      )
    }
    const summary = await publisher.publish(source, signal)
    roleLogger.info({ ...summary, sourceStats: source.stats() }, 'source finished')
    return summary
  } finally {
    monitor?.stop()
    await closeAll([source, { close: () => producer.disconnect() }])
  }
}

function startDropMonitor(
  run: ProducerRun,
  publisher: EventPublisher,
  metrics: ProducerMetrics,
  onAlert: (alert: Alert) => void,
): DropMonitor {
  const { producer: settings, topics } = run.config
  const monitor = new DropMonitor({
    settings: {
      threshold: settings.dropAlertThreshold,
      ratePerSecond: settings.dropAlertRatePerSecond,
      maxBurst: settings.dropAlertMaxBurst,
      intervalMs: settings.dropCheckIntervalMs,
      hostname: settings.hostname ?? machineName(),
      eventsTopic: topics.events,
    },
    readSourceStats: () => run.source.stats(),
    readPublisherDrops: () => publisher.stats().eventsDropped,
    onAlert,
    metrics,
    logger: run.logger,
  })
  monitor.start()
  return monitor
}

/** Publishes a drop alert. A failure is logged and counted, and the events keep flowing. */
function publishAlert(
  producer: Producer,
  codec: AvroCodec<Alert>,
  alert: Alert,
  config: PeregrineConfig,
  metrics: ProducerMetrics,
  logger: Logger,
): void {
  const topic = config.topics.alerts
  producer
    .send({ topic, acks: -1, messages: [{ key: alert.hostname, value: codec.encode(alert) }] })
    .then(
      () => metrics.dropAlerts.inc({ outcome: 'ok' }),
      (error: unknown) => {
        metrics.dropAlerts.inc({ outcome: 'failed' })
        logger.error({ err: error, topic, rule: alert.rule }, 'publishing a drop alert failed')
      },
    )
}
