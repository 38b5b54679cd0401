import { randomBytes } from 'node:crypto'
import type { Schema } from 'avsc'
import { AvroCodec, createSchemaRegistry } from '../../core/avro-codec.js'
import { createKafkaClient, ensureTopics } from '../../core/kafka.js'
import { silentLogger } from '../../core/logger.js'
import { createMetricsRegistry } from '../../core/metrics.js'
import type { PeregrineConfig } from '../../core/peregrine-config.js'
import { probeAvailability } from '../../native/src/index.js'
import type { PublishSummary } from '../../producer/event-publisher.js'
import { runProducer } from '../../producer/main.js'
import { createEventSource } from '../../producer/source-factory.js'

/** node:test skip value: false where the probe can run, else the reason it cannot. */
export function liveProbeSkip(): string | false {
  const availability = probeAvailability()
  return availability.isAvailable ? false : `eBPF probe unavailable: ${availability.reason}`
}

export interface LiveProducer {
  /** Resolves once the probe is attached, which the first published event proves. */
  ready: Promise<void>
  /** Stops the probe and returns what the producer published. */
  stop: () => Promise<PublishSummary>
}

/** Starts the producer with the live eBPF source, tracing `syscalls`, to the config's topics. */
export function startLiveProducer(config: PeregrineConfig, syscalls?: string[]): LiveProducer {
  const controller = new AbortController()
  const logger = silentLogger()
  const source = createEventSource('ebpf', { hostname: 'live-host', logger, syscalls })
  const running = runProducer({
    config,
    logger,
    metricsRegistry: createMetricsRegistry(),
    source,
    signal: controller.signal,
  })
  // A failure shows up in stop(); until then the rejection must not count as unhandled.
  running.catch(() => {})
  const ready = (async () => {
    while (source.stats().eventsRead === 0) {
      await Promise.race([running, new Promise((resolve) => setTimeout(resolve, 50))])
    }
  })()
  return {
    ready,
    stop: async () => {
      controller.abort()
      return await running
    },
  }
}

export interface TopicCollector<T> {
  /** Decoded records kept so far, in arrival order. */
  records: T[]
  stop: () => Promise<void>
}

/**
 * Consumes a topic from the beginning with a throwaway group, decodes each record through the
 * schema registry and keeps those `keep` accepts. The topic is created first when missing.
 */
export async function collectTopic<T>(
  config: PeregrineConfig,
  topic: string,
  schema: Schema,
  keep: (record: T) => boolean,
): Promise<TopicCollector<T>> {
  const client = createKafkaClient(config, 'test-collector', silentLogger())
  await ensureTopics(client, config, [topic])
  const codec = await AvroCodec.register<T>(
    createSchemaRegistry(config.registry),
    `${topic}-value`,
    schema,
  )
  const consumer = client.consumer({ groupId: `test-collector-${randomBytes(4).toString('hex')}` })
  const records: T[] = []
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ message }) => {
      const record = await codec.decode(message.value)
      if (keep(record)) records.push(record)
    },
  })
  return { records, stop: () => consumer.disconnect() }
}
