import kafkajs from 'kafkajs'
import type { Message, Producer } from 'kafkajs'
import type { AvroCodec } from '../core/avro-codec.js'
import { toDeadLetterMessage } from '../core/dead-letter.js'
import { KafkaError, SourceError, errorMessage } from '../core/errors.js'
import { toJsonText } from '../core/json.js'
import type { Logger } from '../core/logger.js'
import type { SyscallEvent } from '../schemas/types.js'
import type { EventSource } from './event-source.js'
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
}

export interface PublishSummary {
  eventsRead: number
  eventsPublished: number
  eventsDeadLettered: number
}

interface PendingBatch {
  messages: Message[]
  bytes: number
  deadLetters: Message[]
}

/**
 * Reads a source and publishes its events to the events topic in batches: a batch is sent when it
 * reaches maxBatchEvents or maxBatchBytes, or flushIntervalMs after its first event. One batch is
 * in flight while the next fills, so the source is never more than two batches ahead of Kafka.
 * Records are keyed by host and process id, so one process's events stay in order on one partition.
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
  }

  constructor(
    producer: Producer,
    codec: AvroCodec<SyscallEvent>,
    settings: PublisherSettings,
    metrics: ProducerMetrics,
    logger: Logger,
  ) {
    this.producer = producer
    this.codec = codec
    this.settings = settings
    this.metrics = metrics
    this.logger = logger.child({ component: 'event-publisher', topic: settings.topic })
  }

  /**
   * Publishes every event of `source` until it ends or `signal` aborts, then flushes what is
   * buffered. Throws KafkaError when a batch cannot be written after the client's retries; the
   * events of batches acknowledged before stay published.
   */
  async publish(source: EventSource, signal: AbortSignal): Promise<PublishSummary> {
    // A child signal lets the publisher stop the source itself when a batch fails.
    const reading = new AbortController()
    const stopReading = (): void => reading.abort(signal.reason)
    signal.addEventListener('abort', stopReading, { once: true })
    const iterator = source.events(reading.signal)[Symbol.asyncIterator]()
    let batch = emptyBatch()
    let inFlight: Promise<void> = Promise.resolve()
    let sendFailure: unknown
    // The flush timer sends a partial batch from its own callback while the loop waits for the
    // source, so a quiet live source still flushes, without a timer per event.
    let flushTimer: NodeJS.Timeout | undefined
    const send = (): void => {
      clearTimeout(flushTimer)
      flushTimer = undefined
      inFlight = this.sendAfter(inFlight, batch)
      inFlight.catch((error: unknown) => {
        sendFailure ??= error
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
        if (result.done === true || sendFailure !== undefined) break
        if (flushTimer === undefined) flushTimer = setTimeout(send, this.settings.flushIntervalMs)
        this.addEvent(batch, result.value)
        if (
          batch.messages.length >= this.settings.maxBatchEvents ||
          batch.bytes >= this.settings.maxBatchBytes
        ) {
          const previous = inFlight
          send()
          // At most one batch is in flight while the next one fills, so the source is never more
          // than two batches ahead of Kafka. A failure is handled through sendFailure.
          await previous.catch(() => {})
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
    }
    if (readFailure !== undefined) throw this.describeReadFailure(readFailure)
    return { ...this.summary }
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
    if (batch.messages.length === 0 && batch.deadLetters.length === 0) return
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
  return { messages: [], bytes: 0, deadLetters: [] }
}
