import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Schema } from 'avsc'
import { pino } from 'pino'
import {
  AvroCodec,
  HEADER_BYTES,
  createSchemaRegistry,
  parseSchema,
  readSchemaId,
} from '../../core/avro-codec.js'
import { createKafkaClient, ensureTopics } from '../../core/kafka.js'
import type { Consumer } from '../../core/kafka.js'
import { silentLogger } from '../../core/logger.js'
import { createMetricsRegistry } from '../../core/metrics.js'
import type { PeregrineConfig } from '../../core/peregrine-config.js'
import { probeAvailability } from '../../native/src/index.js'
import type { PublishSummary } from '../../producer/event-publisher.js'
import { runProducer } from '../../producer/main.js'
import { createEventSource } from '../../producer/source-factory.js'
import { errorMessage } from '../../core/errors.js'
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
  /** Name of the topic read. */
  topic: string
  /** Decoded records kept so far, in arrival order. */
  records: T[]
  /** Records read so far, kept or not. */
  consumed: number
  /** Count of the records that did not decode. */
  undecodable: number
  /** The first few records that did not decode, as partition, offset, size and error. */
  undecodableSamples: string[]
  /** Describes each partition (records read against its end offset) and the consumer's recent events. */
  describe: () => Promise<string>
  /** The offset after the last record of each partition, read from the broker. */
  endOffsets: () => Promise<Map<number, number>>
  /** Whether every partition has been read up to `ends`. */
  hasRead: (ends: Map<number, number>) => boolean
  /** Reads the topic again from the beginning with a new consumer group. */
  restart: () => Promise<void>
  stop: () => Promise<void>
}

/** How long stopping a collector waits for the consumers its restarts retired. */
const RETIRED_WAIT_MS = 10_000

/** Number of recent consumer events and KafkaJS warnings a collector keeps. */
const HISTORY_LINES = 12

/** Number of undecodable records a collector keeps a description of. */
const UNDECODABLE_LINES = 5

/** A field of a record schema, as a prefilter names it. */
export interface ViewField {
  name: string
  type: Schema
  default?: unknown
}

/**
 * A cheap first look at each record: `fields` names a few fields of the topic's record schema,
 * which Avro's schema resolution reads while skipping the rest. Records that `keep` rejects are
 * not decoded whole, so a collector in the same process as a busy producer keeps up with it.
 */
export interface Prefilter {
  fields: ViewField[]
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
  // The consumer's recent events, kept to describe a collector that falls behind.
  const startedAt = Date.now()
  const history: string[] = []
  const addHistory = (line: string): void => {
    history.push(`${((Date.now() - startedAt) / 1000).toFixed(1)} s ${line.slice(0, 300)}`)
    if (history.length > HISTORY_LINES) history.shift()
  }
  const warningLogger = pino(
    { level: 'warn' },
    { write: (line: string) => addHistory(line.trim()) },
  )
  const client = createKafkaClient(config, 'test-collector', warningLogger)
  await ensureTopics(client, config, [topic])
  const codec = await AvroCodec.register<T>(
    createSchemaRegistry(config.registry),
    `${topic}-value`,
    schema,
  )
  const readByPartition = new Map<number, number>()
  const view = prefilter && viewOf(prefilter, schema)
  // A restart retires the consumer without waiting for it, because a stuck consumer may never
  // disconnect. Records that a retired consumer still reads are ignored.
  let generation = 0
  const retiring: Array<Promise<void>> = []
  const startConsumer = async (ownGeneration: number): Promise<Consumer> => {
    const consumer = client.consumer({
      groupId: `test-collector-${randomBytes(4).toString('hex')}`,
    })
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      addHistory(`joined, assigned partitions ${(payload.memberAssignment[topic] ?? []).join(' ')}`)
    })
    consumer.on(consumer.events.REBALANCING, () => addHistory('rebalancing'))
    consumer.on(consumer.events.CRASH, ({ payload }) =>
      addHistory(`crashed: ${payload.error.message}`),
    )
    consumer.on(consumer.events.REQUEST_TIMEOUT, ({ payload }) => {
      addHistory(`request ${payload.apiName} timed out`)
    })
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        if (ownGeneration !== generation) return
        collector.consumed++
        readByPartition.set(partition, Number(message.offset) + 1)
        // A record that does not decode fails the test through assertDecodable. Thrown here, the
        // error would stop the consumer at that offset for good.
        try {
          // Records of the codec's own schema id were written with `schema`, so the view resolves.
          if (view !== undefined && readSchemaId(message.value) === codec.schemaId) {
            const body = (message.value as Buffer).subarray(HEADER_BYTES)
            if (!view.keep(view.type.fromBuffer(body, view.resolver))) return
          }
          const record = await codec.decode(message.value)
          if (keep(record)) collector.records.push(record)
        } catch (error) {
          collector.undecodable++
          if (collector.undecodableSamples.length < UNDECODABLE_LINES) {
            const size = message.value?.length ?? 0
            collector.undecodableSamples.push(
              `partition ${partition} offset ${message.offset} (${size} bytes): ${errorMessage(error)}`,
            )
          }
        }
      },
    })
    return consumer
  }
  const admin = client.admin()
  await admin.connect()
  const endOffsets = async (): Promise<Map<number, number>> => {
    const offsets = await admin.fetchTopicOffsets(topic)
    return new Map(offsets.map(({ partition, high }) => [partition, Number(high)]))
  }
  const describe = async (): Promise<string> => {
    const ends = [...(await endOffsets())].sort(([a], [b]) => a - b)
    const partitions = ends.map(([partition, end]) => {
      return `partition ${partition} read ${readByPartition.get(partition) ?? 0} of ${end}`
    })
    const undecodable =
      collector.undecodable === 0 ? '' : `; ${collector.undecodable} records did not decode`
    return `${partitions.join(', ')}${undecodable}; consumer: ${history.join('; ')}`
  }
  let consumer: Consumer | undefined
  const collector: TopicCollector<T> = {
    topic,
    records: [],
    consumed: 0,
    undecodable: 0,
    undecodableSamples: [],
    endOffsets,
    hasRead: (ends) => {
      return [...ends].every(([partition, end]) => (readByPartition.get(partition) ?? 0) >= end)
    },
    describe,
    restart: async () => {
      generation++
      if (consumer !== undefined) retiring.push(consumer.disconnect().catch(() => {}))
      addHistory('restarted with a new group')
      collector.records.length = 0
      collector.consumed = 0
      collector.undecodable = 0
      collector.undecodableSamples.length = 0
      readByPartition.clear()
      consumer = await startConsumer(generation)
    },
    stop: async () => {
      await consumer?.disconnect()
      if (retiring.length > 0) {
        await Promise.race([
          Promise.all(retiring),
          sleep(RETIRED_WAIT_MS, undefined, { ref: false }),
        ])
      }
      await admin.disconnect()
    },
  }
  try {
    consumer = await startConsumer(generation)
  } catch (error) {
    await admin.disconnect()
    throw error
  }
  return collector
}

/** Builds the prefilter's reader type: the topic's record, with the prefilter's fields only. */
function viewOf(prefilter: Prefilter, schema: Schema) {
  const { name, namespace } = schema as { name: string; namespace?: string }
  const type = parseSchema({ type: 'record', name, namespace, fields: prefilter.fields } as Schema)
  return { type, resolver: type.createResolver(parseSchema(schema)), keep: prefilter.keep }
}

/** Throws when the collector has read records that do not decode, naming the first few. */
export function assertDecodable<T>(collector: TopicCollector<T>): void {
  if (collector.undecodable === 0) return
  throw new Error(
    `${collector.undecodable} records of ${collector.topic} did not decode, so a consumer of the topic ` +
      `would dead-letter them: ${collector.undecodableSamples.join('; ')}`,
  )
}

/** Time without a record read, behind the topic's end, after which a collector counts as stuck. */
const STUCK_COLLECTOR_MS = 15_000

/**
 * Waits until `found` passes or the collector has read each partition up to its end offset at the
 * call. A collector stuck behind that end is restarted once and its state written to stderr,
 * because the records are still in the topic and only the test's reader failed.
 */
export async function catchUp<T>(
  collector: TopicCollector<T>,
  found: () => boolean,
  deadline: number,
): Promise<void> {
  const ends = await collector.endOffsets()
  let lastConsumed = collector.consumed
  let movedAt = Date.now()
  let isRestarted = false
  await waitUntil(async () => {
    if (found() || collector.hasRead(ends)) return true
    if (collector.consumed !== lastConsumed) {
      lastConsumed = collector.consumed
      movedAt = Date.now()
    } else if (!isRestarted && Date.now() - movedAt >= STUCK_COLLECTOR_MS) {
      process.stderr.write(
        `collector stuck behind the end of the topic; restarting it (${await collector.describe()})\n`,
      )
      isRestarted = true
      await collector.restart()
      lastConsumed = 0
      movedAt = Date.now()
    }
    return false
  }, deadline)
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
 * them. An attempt lasts at least `attemptMs` and until the collector has read every partition up
 * to its end offset at that time, so a collector behind a busy producer is not mistaken for a loss. A
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
    await catchUp(collector, () => find() !== undefined, deadline)
    assertDecodable(collector)
    const found = find()
    if (found !== undefined) return found

    const drops = await producer.drops()
    if (totalDrops(drops) === dropsBefore) {
      throw new Error(
        `no record of ${description} in attempt ${attempt}, though no event was dropped ` +
          `meanwhile (${await collector.describe()})`,
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
