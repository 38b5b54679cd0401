import kafkajs from 'kafkajs'
import type { Message, Producer } from 'kafkajs'
import type { AvroCodec } from '../core/avro-codec.js'
import { toDeadLetterMessage } from '../core/dead-letter.js'
import { KafkaError, SourceError, errorMessage } from '../core/errors.js'
import { toJsonText } from '../core/json.js'
import type { Logger } from '../core/logger.js'
import type { SyscallEvent } from '../schemas/types.js'
import type { EventSource } from './event-source.js'
import { FairShare } from './fair-share.js'
import type { ProducerMetrics } from './metrics.js'

const { CompressionTypes } = kafkajs

/** Maximum string length and list length kept in the dead-letter copy of an oversized event. */
const DEAD_LETTER_STRING_CHARS = 4096
const DEAD_LETTER_LIST_ITEMS = 64

export interface PublisherSettings {
  topic: string
  deadLetterTopic: string
  compression: 'none' | 'gzip'
  maxBatchEvents: number
  /** Encoded bytes per produce request; keeps every partition's record batch under the broker limit. */
  maxBatchBytes: number
  flushIntervalMs: number
  /** Maximum events read but not yet acknowledged by Kafka. Past it, live events are dropped. */
  maxBufferedEvents: number
  /**
   * Events per process per second of a live source still published past maxBufferedEvents, from
   * a reserve of a tenth of it (see FairShare). The value 0 drops every event past the limit.
   */
  fairShareEventsPerSecond: number
}

/** Reason under which events shed because the buffer was full are counted. */
export const BUFFER_FULL = 'buffer_full'

export interface PublishSummary {
  eventsRead: number
  eventsPublished: number
  eventsDeadLettered: number
  /** Events of a live source dropped before encoding, by reason (`buffer_full`). */
  eventsDropped: Record<string, number>
}

interface PendingBatch {
  messages: Message[]
  bytes: number
  deadLetters: Message[]
  /** Events in the batch kept past the buffer limit by the fair share. */
  reserved: number
}

/** Shortest time between two warnings about shed events, so a long outage logs a count. */
const SHED_WARNING_INTERVAL_MS = 10_000

/**
 * Reads a source and publishes its events to the events topic in batches: a batch is sent when it
 * reaches maxBatchEvents or maxBatchBytes, or flushIntervalMs after its first event. Batches go out
 * one at a time, in order, and records are keyed by host and process id, so one process's events
 * stay in order on one partition.
 *
 * Back-pressure: at most maxBufferedEvents events are held between the source and Kafka's
 * acknowledgement. A file source then waits for room. A live source (`isLive`) cannot wait
 * without losing events in the kernel and the state built from them, so the publisher keeps
 * reading it and drops the events that do not fit, counting them under `buffer_full`, except for
 * a fair share per process held in a reserve above the limit.
 */
export class EventPublisher {
  private readonly producer: Producer
  private readonly codec: AvroCodec<SyscallEvent>
  private readonly settings: PublisherSettings
  private readonly metrics: ProducerMetrics
  private readonly logger: Logger
  private readonly summary: PublishSummary = {
    eventsRead: 0,
    eventsPublished: 0,
    eventsDeadLettered: 0,
    eventsDropped: {},
  }

  /** Events in the batch being filled and in batches sent but not acknowledged. */
  private bufferedEvents = 0
  /** Sends not settled yet, oldest first, which is the order they settle in. */
  private readonly pendingSends: Array<Promise<void>> = []
  private shedSinceWarning = 0
  private keptSinceWarning = 0
  private lastShedWarningMs = Number.NEGATIVE_INFINITY
  private readonly fairShare: FairShare
  private readonly maxWithReserve: number
  private readonly nowMs: () => number

  constructor(
    producer: Producer,
    codec: AvroCodec<SyscallEvent>,
    settings: PublisherSettings,
    metrics: ProducerMetrics,
    logger: Logger,
    nowMs: () => number = Date.now,
  ) {
    this.fairShare = new FairShare(settings.fairShareEventsPerSecond)
    this.maxWithReserve = settings.maxBufferedEvents + Math.ceil(settings.maxBufferedEvents / 10)
    this.nowMs = nowMs
    this.producer = producer
    this.codec = codec
    this.settings = settings
    this.metrics = metrics
    this.logger = logger.child({ component: 'event-publisher', topic: settings.topic })
  }

  /** Returns the counts so far. `eventsDropped` counts the events back-pressure shed. */
  stats(): PublishSummary {
    return { ...this.summary, eventsDropped: { ...this.summary.eventsDropped } }
  }

  /**
   * Publishes every event of `source` until it ends or `signal` aborts, then flushes what is
   * buffered. Throws KafkaError when a batch cannot be written after the client's retries; the
   * events of batches acknowledged before stay published, and the source is stopped.
   */
  async publish(source: EventSource, signal: AbortSignal): Promise<PublishSummary> {
    // A child signal lets the publisher stop the source itself when a batch fails.
    const reading = new AbortController()
    const stopReading = (): void => reading.abort(signal.reason)
    signal.addEventListener('abort', stopReading, { once: true })
    const iterator = source.events(reading.signal)[Symbol.asyncIterator]()
    const isLive = source.isLive === true
    let batch = emptyBatch()
    let inFlight: Promise<void> = Promise.resolve()
    let failure: unknown
    // The flush timer sends a partial batch from its own callback while the loop waits for the
    // source, so a quiet live source still flushes, without a timer per event.
    let flushTimer: NodeJS.Timeout | undefined
    const send = (): void => {
      clearTimeout(flushTimer)
      flushTimer = undefined
      if (batch.messages.length === 0 && batch.deadLetters.length === 0) return
      inFlight = this.track(this.sendAfter(inFlight, batch), batchSize(batch), (error) => {
        failure ??= error
        reading.abort(error)
      })
      batch = emptyBatch()
    }

    let readFailure: unknown
    try {
      for (;;) {
        let result: IteratorResult<SyscallEvent>
        try {
          result = await iterator.next()
        } catch (error) {
          readFailure = error
          break
        }
        if (result.done === true || failure !== undefined) break
        if (this.bufferedEvents >= this.settings.maxBufferedEvents) {
          // The partial batch goes out now, because only an acknowledgement makes room. A batch
          // of reserve events waits for its timer, so the reserve is not sent event by event.
          if (batch.reserved === 0) send()
          if (!isLive) {
            await this.waitForRoom()
            if (failure !== undefined) break
          } else if (this.keepsPastLimit(result.value)) {
            batch.reserved++
          } else {
            this.shed()
            continue
          }
        }
        if (flushTimer === undefined) flushTimer = setTimeout(send, this.settings.flushIntervalMs)
        this.addEvent(batch, result.value)
        if (
          batch.messages.length >= this.settings.maxBatchEvents ||
          batch.bytes >= this.settings.maxBatchBytes
        ) {
          const previous = inFlight
          send()
          // A file source stays at most two batches ahead of Kafka. A live source is read on,
          // within maxBufferedEvents, because its kernel ring would overflow while it waited.
          // A failure is handled through `failure`.
          if (!isLive) await previous.catch(() => {})
        }
      }
      // Events read before a source failure are still published.
      send()
      await inFlight
    } finally {
      clearTimeout(flushTimer)
      signal.removeEventListener('abort', stopReading)
      reading.abort()
      await iterator.return?.()
      this.warnAboutShedEvents(true)
    }
    if (readFailure !== undefined) throw this.describeReadFailure(readFailure)
    return this.stats()
  }

  /**
   * Releases a send's events from the buffer count once it settles. Rejections are reported to `onFailure`
   * and stay on the returned promise, which the final flush awaits.
   */
  private track(
    sending: Promise<void>,
    events: number,
    onFailure: (error: unknown) => void,
  ): Promise<void> {
    this.metrics.bufferedEvents.set(this.bufferedEvents)
    const settled = sending.then(
      () => this.release(events),
      (error: unknown) => {
        this.release(events)
        onFailure(error)
      },
    )
    this.pendingSends.push(settled)
    return sending
  }

  private release(events: number): void {
    this.bufferedEvents -= events
    this.metrics.bufferedEvents.set(this.bufferedEvents)
    this.pendingSends.shift()
  }

  /** Waits until acknowledgements bring the buffer below its limit, or no send is left. */
  private async waitForRoom(): Promise<void> {
    while (this.bufferedEvents >= this.settings.maxBufferedEvents && this.pendingSends.length > 0) {
      await this.pendingSends[0]
    }
  }

  /** Reserves a place for a live event past the buffer limit, or returns false. */
  private keepsPastLimit(event: SyscallEvent): boolean {
    if (this.bufferedEvents >= this.maxWithReserve) return false
    if (!this.fairShare.tryTake(Number(event.proc?.pid ?? -1), this.nowMs())) return false
    this.keptSinceWarning++
    return true
  }

  private shed(): void {
    this.summary.eventsRead++
    this.metrics.eventsRead.inc()
    this.summary.eventsDropped[BUFFER_FULL] = (this.summary.eventsDropped[BUFFER_FULL] ?? 0) + 1
    this.metrics.eventsDropped.inc({ reason: BUFFER_FULL })
    this.shedSinceWarning++
    this.warnAboutShedEvents(false)
  }

  private warnAboutShedEvents(isFinal: boolean): void {
    const nowMs = Date.now()
    if (this.shedSinceWarning === 0) return
    if (!isFinal && nowMs - this.lastShedWarningMs < SHED_WARNING_INTERVAL_MS) return
    this.logger.warn(
      {
        dropped: this.shedSinceWarning,
        droppedTotal: this.summary.eventsDropped[BUFFER_FULL],
        keptInReserve: this.keptSinceWarning,
        maxBufferedEvents: this.settings.maxBufferedEvents,
      },
      'Kafka is behind the live source; events dropped because the producer buffer is full',
    )
    this.shedSinceWarning = 0
    this.keptSinceWarning = 0
    this.lastShedWarningMs = nowMs
  }

  private describeReadFailure(error: unknown): Error {
    const published = this.summary.eventsPublished
    return new SourceError(
      `${errorMessage(error)} (the ${published} events read before it were published)`,
      {
        cause: error,
      },
    )
  }

  private addEvent(batch: PendingBatch, event: SyscallEvent): void {
    this.summary.eventsRead++
    this.metrics.eventsRead.inc()
    this.bufferedEvents++
    let value: Buffer
    try {
      value = this.codec.encode(event)
    } catch (error) {
      this.logger.error(
        { err: error, num: String(event.num) },
        'event does not match the schema; sending it to the dead-letter topic',
      )
      batch.deadLetters.push(
        toDeadLetterMessage({ value: toJsonText(event), error, stage: 'encode' }),
      )
      return
    }
    if (value.length > this.settings.maxBatchBytes) {
      batch.deadLetters.push(this.oversizedDeadLetter(event, value.length))
      return
    }
    batch.messages.push({ key: `${event.hostname}:${event.proc?.pid ?? ''}`, value })
    batch.bytes += value.length
  }

  /**
   * Builds the dead letter of an event too large for one Kafka record. The record itself cannot
   * be stored, so the dead letter holds its JSON with every string cut to a bounded length.
   */
  private oversizedDeadLetter(event: SyscallEvent, bytes: number): Message {
    const error = new SourceError(
      `event of ${bytes} bytes is larger than the ${this.settings.maxBatchBytes}-byte record limit ` +
        `(PEREGRINE_PRODUCER_MAX_BATCH_BYTES); strings and lists in this copy are cut short`,
    )
    this.logger.error(
      { err: error, num: String(event.num), bytes },
      'event too large; sending it to the dead-letter topic',
    )
    return toDeadLetterMessage({
      value: toJsonText(cutStrings(event, DEAD_LETTER_STRING_CHARS)),
      error,
      stage: 'encode',
    })
  }

  private async sendAfter(previous: Promise<void>, batch: PendingBatch): Promise<void> {
    await previous
    const startedAt = process.hrtime.bigint()
    const topicMessages = [{ topic: this.settings.topic, messages: batch.messages }]
    if (batch.deadLetters.length > 0)
      topicMessages.push({ topic: this.settings.deadLetterTopic, messages: batch.deadLetters })
    try {
      await this.producer.sendBatch({
        topicMessages: topicMessages.filter((entry) => entry.messages.length > 0),
        acks: -1,
        compression:
          this.settings.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
      })
    } catch (error) {
      throw new KafkaError(
        `publishing ${batch.messages.length} events to ${this.settings.topic} failed: ${errorMessage(error)}`,
        {
          cause: error,
          context: { topic: this.settings.topic },
        },
      )
    }
    this.metrics.batchDuration.observe(Number(process.hrtime.bigint() - startedAt) / 1e9)
    this.metrics.eventsPublished.inc(batch.messages.length)
    this.metrics.bytesPublished.inc(batch.bytes)
    this.summary.eventsPublished += batch.messages.length
    if (batch.deadLetters.length > 0) {
      this.metrics.eventsDeadLettered.inc({ stage: 'encode' }, batch.deadLetters.length)
      this.summary.eventsDeadLettered += batch.deadLetters.length
    }
    this.logger.debug({ events: batch.messages.length, bytes: batch.bytes }, 'batch published')
  }
}

/** Cuts every string in a JSON-like value to `maxChars` and every list to a bounded length, marking each cut. */
function cutStrings(value: unknown, maxChars: number): unknown {
  if (typeof value === 'string') {
    return value.length <= maxChars
      ? value
      : `${value.slice(0, maxChars)}...[${value.length - maxChars} more characters]`
  }
  if (Array.isArray(value)) {
    const kept = value.slice(0, DEAD_LETTER_LIST_ITEMS).map((item) => cutStrings(item, maxChars))
    return value.length > DEAD_LETTER_LIST_ITEMS
      ? [...kept, `...[${value.length - DEAD_LETTER_LIST_ITEMS} more items]`]
      : kept
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [key, cutStrings(inner, maxChars)]),
    )
  }
  return value
}

function emptyBatch(): PendingBatch {
  return { messages: [], bytes: 0, deadLetters: [], reserved: 0 }
}

function batchSize(batch: PendingBatch): number {
  return batch.messages.length + batch.deadLetters.length
}
