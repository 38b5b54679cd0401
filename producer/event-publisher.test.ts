import assert from 'node:assert/strict'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { describe, it } from 'node:test'
import type { Producer, ProducerBatch } from 'kafkajs'
import type { AvroCodec } from '../core/avro-codec.js'
import { KafkaError } from '../core/errors.js'
import { silentLogger } from '../core/logger.js'
import { createMetricsRegistry } from '../core/metrics.js'
import type { SyscallEvent } from '../schemas/types.js'
import { sampleEvent } from '../tests/support/events.js'
import { EventPublisher } from './event-publisher.js'
import type { PublisherSettings } from './event-publisher.js'
import type { EventSource, SourceStats } from './event-source.js'
import { createProducerMetrics } from './metrics.js'

/** A producer whose sends stay pending until the test acknowledges or fails them. */
class SlowProducer {
  readonly pending: Array<{ events: number; resolve: () => void; reject: (e: Error) => void }> = []

  acknowledged = 0
  isAutomatic = false

  sendBatch(batch: ProducerBatch): Promise<void> {
    const events = (batch.topicMessages ?? []).reduce((sum, t) => sum + t.messages.length, 0)
    if (this.isAutomatic) {
      this.acknowledged += events
      return Promise.resolve()
    }
    return new Promise((resolve, reject) => {
      this.pending.push({
        events,
        resolve: () => {
          this.acknowledged += events
          resolve()
        },
        reject,
      })
    })
  }

  /** Acknowledges every send made so far and every later one. */
  acknowledgeAll(): void {
    this.isAutomatic = true
    for (const send of this.pending.splice(0)) send.resolve()
  }
}

/** A source of `count` events that pauses after `pauseAfter` of them until `resume()`. */
class ScriptedSource implements EventSource {
  readonly name = 'scripted'
  yielded = 0
  wasAborted = false
  readonly paused: Promise<void>
  private reachPause: () => void = () => {}
  private resumeGate: () => void = () => {}
  private readonly gate: Promise<void>

  constructor(
    readonly isLive: boolean,
    private readonly count: number,
    private readonly pauseAfter = Number.POSITIVE_INFINITY,
    private readonly pidOf: (num: number) => number = () => 4242,
  ) {
    this.paused = new Promise((resolve) => (this.reachPause = resolve))
    this.gate = new Promise((resolve) => (this.resumeGate = resolve))
  }

  resume(): void {
    this.resumeGate()
  }

  async *events(signal: AbortSignal): AsyncIterable<SyscallEvent> {
    signal.addEventListener('abort', () => (this.wasAborted = true))
    for (let num = 1; num <= this.count && !signal.aborted; num++) {
      if (num === this.pauseAfter + 1) {
        this.reachPause()
        await this.gate
      }
      this.yielded++
      yield sampleEvent({ num, proc: { pid: this.pidOf(num) } })
    }
  }

  stats(): SourceStats {
    return { eventsRead: this.yielded, skipped: {}, dropped: {} }
  }

  async close(): Promise<void> {}
}

const SETTINGS: PublisherSettings = {
  topic: 'events',
  deadLetterTopic: 'events.dlq',
  compression: 'none',
  maxBatchEvents: 5,
  maxBatchBytes: 1_000_000,
  flushIntervalMs: 60_000,
  maxBufferedEvents: 12,
  fairShareEventsPerSecond: 0,
}

const codec = {
  encode: (event: SyscallEvent) => Buffer.from(String(event.num)),
} as unknown as AvroCodec<SyscallEvent>

function createPublisher(
  producer: SlowProducer,
  settings: Partial<PublisherSettings> = {},
  nowMs?: () => number,
) {
  const registry = createMetricsRegistry()
  const metrics = createProducerMetrics(registry)
  const publisher = new EventPublisher(
    producer as unknown as Producer,
    codec,
    { ...SETTINGS, ...settings },
    metrics,
    silentLogger(),
    nowMs,
  )
  return { publisher, metrics }
}

/** Lets pending promise callbacks and I/O run, without waiting on the clock. */
async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await nextTurn()
}

describe('EventPublisher back-pressure', () => {
  it('drops live events past the buffer limit and counts them', async () => {
    const producer = new SlowProducer()
    const { publisher, metrics } = createPublisher(producer)
    const source = new ScriptedSource(true, 35, 30)

    const publishing = publisher.publish(source, new AbortController().signal)
    await source.paused

    // 12 events fit the buffer: two full batches of 5 and the 2 sent when the limit was hit.
    assert.equal(publisher.stats().eventsDropped.buffer_full, 18)
    assert.equal((await metrics.eventsDropped.get()).values[0]?.value, 18)
    assert.equal((await metrics.bufferedEvents.get()).values[0]?.value, 12)
    assert.equal(producer.pending.length, 1, 'one batch in flight, the rest queued behind it')

    producer.acknowledgeAll()
    await settle()
    source.resume()
    const summary = await publishing

    assert.equal(summary.eventsRead, 35)
    assert.equal(summary.eventsPublished, 17)
    assert.deepEqual(summary.eventsDropped, { buffer_full: 18 })
    assert.equal(producer.acknowledged, 17)
    assert.equal((await metrics.bufferedEvents.get()).values[0]?.value, 0)
  })

  it('keeps a fair share past the limit', async () => {
    // Given a buffer of 40 events, its reserve of 4 and a share of 2 events per process a second
    const producer = new SlowProducer()
    const { publisher } = createPublisher(
      producer,
      { maxBufferedEvents: 40, fairShareEventsPerSecond: 2 },
      () => 0,
    )
    const published: number[] = []
    const sendBatch = producer.sendBatch.bind(producer)
    producer.sendBatch = (batch: ProducerBatch) => {
      for (const entry of batch.topicMessages ?? []) {
        for (const message of entry.messages) published.push(Number(message.value))
      }
      return sendBatch(batch)
    }
    // When process 100 floods, and processes 301 to 303 make one event each, while Kafka is silent
    const quiet = new Map([
      [45, 301],
      [46, 302],
      [50, 303],
    ])
    const source = new ScriptedSource(true, 61, 60, (num) => quiet.get(num) ?? 100)
    const publishing = publisher.publish(source, new AbortController().signal)
    await source.paused
    producer.acknowledgeAll()
    await settle()
    source.resume()
    const summary = await publishing

    // Then the flood fills the buffer and takes its share of the reserve (41, 42), the first two
    // quiet processes take the rest (45, 46), and the third finds the reserve full
    const inOrder = published.sort((x, y) => x - y)
    const first40 = Array.from({ length: 40 }, (_, i) => i + 1)
    assert.deepEqual(inOrder, [...first40, 41, 42, 45, 46, 61])
    assert.equal(summary.eventsDropped.buffer_full, 16)
  })

  it('makes a file source wait instead of dropping', async () => {
    const producer = new SlowProducer()
    const { publisher } = createPublisher(producer, { maxBufferedEvents: 7 })
    const source = new ScriptedSource(false, 40)

    const publishing = publisher.publish(source, new AbortController().signal)
    await settle()

    // One batch of 5 and the 2 events sent when the limit was hit fill the buffer. The 8th event
    // was read and waits for room, and nothing more is read while Kafka is silent.
    assert.equal(source.yielded, 8)
    assert.equal(publisher.stats().eventsRead, 7)
    await settle()
    assert.equal(source.yielded, 8)

    producer.acknowledgeAll()
    const summary = await publishing

    assert.equal(summary.eventsPublished, 40)
    assert.deepEqual(summary.eventsDropped, {})
    assert.equal(producer.acknowledged, 40)
  })

  it('keeps a file source two batches ahead', async () => {
    const producer = new SlowProducer()
    const { publisher } = createPublisher(producer)
    const source = new ScriptedSource(false, 40)

    const publishing = publisher.publish(source, new AbortController().signal)
    await settle()
    assert.equal(source.yielded, 10)
    producer.pending[0].resolve()
    await settle()

    // The first batch was acknowledged, so a third batch filled behind the second.
    assert.equal(source.yielded, 15)

    producer.acknowledgeAll()
    await publishing
  })

  it('stops a live source and rejects when a batch fails', async () => {
    const producer = new SlowProducer()
    const { publisher } = createPublisher(producer)
    const source = new ScriptedSource(true, 1000, 30)

    const publishing = publisher.publish(source, new AbortController().signal)
    await source.paused
    producer.pending[0].reject(new Error('broker unreachable'))
    await settle()
    source.resume()

    await assert.rejects(publishing, (error: unknown) => {
      assert.ok(error instanceof KafkaError)
      assert.match(error.message, /publishing 5 events to events failed: broker unreachable/)
      return true
    })
    assert.ok(source.wasAborted)
    assert.ok(source.yielded < 1000)
  })
})
