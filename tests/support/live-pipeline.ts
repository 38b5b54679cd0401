import { randomBytes } from 'node:crypto'
import type { Schema } from 'avsc'
import {
  AvroCodec,
  HEADER_BYTES,
  createSchemaRegistry,
  parseSchema,
  readSchemaId,
} from '../../core/avro-codec.js'
import { createKafkaClient, ensureTopics } from '../../core/kafka.js'
import { silentLogger } from '../../core/logger.js'
import { createMetricsRegistry } from '../../core/metrics.js'
import type { PeregrineConfig } from '../../core/peregrine-config.js'
import { probeAvailability } from '../../native/src/index.js'
import type { PublishSummary } from '../../producer/event-publisher.js'
import { runProducer } from '../../producer/main.js'
import { createEventSource } from '../../producer/source-factory.js'
import { waitUntil } from './harness.js'

/** node:test skip value: false where the probe can run, else the reason it cannot. */
export function liveProbeSkip(): string | false {
  const availability = probeAvailability()
  return availability.isAvailable ? false : `eBPF probe unavailable: ${availability.reason}`
}

export interface LiveProducer {
  /** Resolves once the probe is attached, which the first published event proves. */
  ready: Promise<void>
  /** Events lost so far, by cause: a full kernel ring, a full producer buffer, and others. */
  drops: () => Promise<Record<string, number>>
  /** Events Kafka acknowledged so far. */
  published: () => Promise<number>
  /** Stops the probe and returns what the producer published. */
  stop: () => Promise<PublishSummary>
}

/** Starts the producer with the live eBPF source, tracing `syscalls`, to the config's topics. */
export function startLiveProducer(config: PeregrineConfig, syscalls?: string[]): LiveProducer {
  const controller = new AbortController()
  const logger = silentLogger()
  const source = createEventSource('ebpf', { hostname: 'live-host', logger, syscalls })
  const metricsRegistry = createMetricsRegistry()
  const running = runProducer({
    config,
    logger,
    metricsRegistry,
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
  const counterValues = async (name: string): Promise<Array<{ value: number; labels: object }>> => {
    return (await metricsRegistry.getSingleMetric(name)?.get())?.values ?? []
  }
  const drops = async (): Promise<Record<string, number>> => {
    const counts = { ...source.stats().dropped }
    const shed = await counterValues('peregrine_producer_events_dropped_total')
    for (const { value, labels } of shed) {
      const reason = String((labels as { reason?: string }).reason)
      counts[reason] = (counts[reason] ?? 0) + value
    }
    return counts
  }
  const published = async (): Promise<number> => {
    const values = await counterValues('peregrine_producer_events_published_total')
    return values.reduce((sum, entry) => sum + entry.value, 0)
  }
  return {
    ready,
    drops,
    published,
    stop: async () => {
      controller.abort()
      return await running
    },
  }
}

export interface TopicCollector<T> {
  /** Decoded records kept so far, in arrival order. */
  records: T[]
  /** Records read so far, kept or not. */
  readonly consumed: number
  stop: () => Promise<void>
}

/**
 * A cheap first look at each record: `schema` names a few fields of the topic's schema, which
 * Avro's schema resolution reads while skipping the rest. Records that `keep` rejects are not decoded
 * whole, so a collector in the same process as a busy producer keeps up with it.
 */
export interface Prefilter {
  schema: Schema
  keep: (view: unknown) => boolean
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
  prefilter?: Prefilter,
): Promise<TopicCollector<T>> {
  const client = createKafkaClient(config, 'test-collector', silentLogger())
  await ensureTopics(client, config, [topic])
  const codec = await AvroCodec.register<T>(
    createSchemaRegistry(config.registry),
    `${topic}-value`,
    schema,
  )
  const consumer = client.consumer({ groupId: `test-collector-${randomBytes(4).toString('hex')}` })
  const collector = { records: [] as T[], consumed: 0, stop: () => consumer.disconnect() }
  const view = prefilter && viewOf(prefilter, schema)
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ message }) => {
      collector.consumed++
      // Records of the codec's own schema id were written with `schema`, so the view resolves.
      if (view !== undefined && readSchemaId(message.value) === codec.schemaId) {
        const body = (message.value as Buffer).subarray(HEADER_BYTES)
        if (!view.keep(view.type.fromBuffer(body, view.resolver))) return
      }
      const record = await codec.decode(message.value)
      if (keep(record)) collector.records.push(record)
    },
  })
  return collector
}

function viewOf(prefilter: Prefilter, schema: Schema) {
  const type = parseSchema(prefilter.schema)
  return { type, resolver: type.createResolver(parseSchema(schema)), keep: prefilter.keep }
}

export interface RepeatOptions {
  /** Minimum wait for the records of one attempt (default 10 s). */
  attemptMs?: number
  /** Maximum wait for all attempts together (default 75 s). */
  deadlineMs?: number
}

/** Adds up drop counts over their causes. */
export function totalDrops(counts: Record<string, number>): number {
  return Object.values(counts).reduce((sum, count) => sum + count, 0)
}

/**
 * Acts and waits for a record the action makes, repeating the action while the pipeline reports
 * drops. On a host making syscalls faster than the pipeline carries them, the probe drops events
 * by design (a full kernel ring, a full producer buffer), and the action's own events may be among
 * them. An attempt lasts at least `attemptMs` and until the collector has read what the producer
 * had published by then, so a collector behind a busy producer is not mistaken for a loss. A
 * missing record with no drop counted in its attempt is a loss, and fails at once.
 *
 * `act` performs the action once and returns the test for the records that prove it.
 */
export async function repeatUntilSeen<T>(
  producer: LiveProducer,
  collector: TopicCollector<T>,
  description: string,
  act: () => Promise<(record: T) => boolean>,
  options: RepeatOptions = {},
): Promise<T> {
  const attemptMs = options.attemptMs ?? 10_000
  const deadline = Date.now() + (options.deadlineMs ?? 75_000)
  const firstDrops = await producer.drops()
  const matches: Array<(record: T) => boolean> = []
  const find = (): T | undefined => collector.records.find((r) => matches.some((m) => m(r)))
  for (let attempt = 1; ; attempt++) {
    const dropsBefore = totalDrops(await producer.drops())
    matches.push(await act())
    await waitUntil(() => find() !== undefined, Math.min(Date.now() + attemptMs, deadline))
    const target = await producer.published()
    await waitUntil(() => find() !== undefined || collector.consumed >= target, deadline)
    const found = find()
    if (found !== undefined) return found

    const drops = await producer.drops()
    if (totalDrops(drops) === dropsBefore) {
      throw new Error(
        `no record of ${description} in attempt ${attempt}, though the collector read the ` +
          `${collector.consumed} records published and the pipeline dropped no event meanwhile`,
      )
    }
    if (Date.now() >= deadline) {
      const lost = Object.entries(drops)
        .map(([cause, count]) => `${cause} ${count - (firstDrops[cause] ?? 0)}`)
        .join(', ')
      throw new Error(
        `no record of ${description} after ${attempt} attempts: the host made syscalls faster ` +
          `than the pipeline carried them, and events were dropped (${lost})`,
      )
    }
  }
}
