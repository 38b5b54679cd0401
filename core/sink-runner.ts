import { setTimeout as sleep } from 'node:timers/promises'
import type { Consumer, EachBatchPayload, KafkaMessage, Message, Producer } from 'kafkajs'
import type { AvroCodec } from './avro-codec.js'
import { toDeadLetterMessage } from './dead-letter.js'
import { KafkaError, SchemaError, SinkDeliveryError, errorMessage, isRetriable } from './errors.js'
import type { Logger } from './logger.js'
import { meetsMinimumPriority } from './priority.js'
import { backoffDelayMs } from './retry.js'
import type { DeliveryOutcome, SinkMetrics } from './sink-metrics.js'
import type { Alert } from '../schemas/types.js'

/** One failed alert of a batch, by its index in the batch handed to `deliver`. */
export interface DeliveryFailure {
  index: number
  error: unknown
  /** False when the alert was never sent, because an earlier one found the receiver down. */
  attempted?: boolean
}

/**
 * A destination only translates alerts into requests. Retries, backoff, dead letters, metrics and
 * logging belong to the runner. `deliver` returns the alerts that failed; an empty list means all
 * were accepted. It may also throw, which fails the whole batch with that error.
 */
export interface SinkDestination {
  readonly name: string
  /** Most alerts handed to one `deliver` call. */
  readonly maxBatchAlerts: number
  deliver: (alerts: Alert[], signal: AbortSignal) => Promise<DeliveryFailure[]>
  close?: () => Promise<void>
}

export interface SinkRunnerSettings {
  alertsTopic: string
  deadLetterTopic: string
  minPriority: string
  maxAttempts: number
  retryInitialMs: number
  retryMaxMs: number
}

export interface SinkStats {
  consumed: number
  delivered: number
  filtered: number
  deadLettered: number
}

interface PendingAlert {
  alert: Alert
  message: KafkaMessage
  attempts: number
  lastError?: unknown
}

/**
 * Consumes the alerts topic for one destination and delivers each alert at least once, or puts it
 * on the sink's dead-letter topic with the last error. Offsets are resolved only after every alert
 * before them was delivered, filtered or dead-lettered, so a crash redelivers instead of losing.
 */
export class SinkRunner {
  private readonly consumer: Consumer
  private readonly producer: Producer
  private readonly codec: AvroCodec<Alert>
  private readonly destination: SinkDestination
  private readonly settings: SinkRunnerSettings
  private readonly metrics: SinkMetrics
  private readonly logger: Logger
  private readonly abort = new AbortController()
  private readonly counts: SinkStats = { consumed: 0, delivered: 0, filtered: 0, deadLettered: 0 }

  constructor(options: {
    consumer: Consumer
    producer: Producer
    codec: AvroCodec<Alert>
    destination: SinkDestination
    settings: SinkRunnerSettings
    metrics: SinkMetrics
    logger: Logger
  }) {
    this.consumer = options.consumer
    this.producer = options.producer
    this.codec = options.codec
    this.destination = options.destination
    this.settings = options.settings
    this.metrics = options.metrics
    this.logger = options.logger.child({ component: 'sink-runner', sink: options.destination.name })
  }

  async start(): Promise<void> {
    await this.consumer.subscribe({ topic: this.settings.alertsTopic, fromBeginning: true })
    await this.consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.handleBatch(payload),
    })
  }

  /** Aborts waits between retries; the batch in hand stops at its next step without resolving offsets. */
  stop(): void {
    this.abort.abort(new Error('sink stopping'))
  }

  stats(): SinkStats {
    return { ...this.counts }
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload
    const chunkSize = Math.max(1, this.destination.maxBatchAlerts)
    for (let start = 0; start < batch.messages.length; start += chunkSize) {
      if (!payload.isRunning() || payload.isStale() || this.abort.signal.aborted) return
      const chunk = batch.messages.slice(start, start + chunkSize)
      const source = { topic: batch.topic, partition: batch.partition }

      const { pending, deadLetters } = await this.decodeChunk(chunk, source)
      deadLetters.push(...(await this.deliverWithRetries(pending, source, payload)))
      await this.writeDeadLetters(deadLetters)

      payload.resolveOffset(chunk[chunk.length - 1].offset)
      await payload.heartbeat()
    }
    await payload.commitOffsetsIfNecessary()
  }

  private async decodeChunk(
    chunk: KafkaMessage[],
    source: { topic: string; partition: number },
  ): Promise<{ pending: PendingAlert[]; deadLetters: Message[] }> {
    const pending: PendingAlert[] = []
    const deadLetters: Message[] = []
    for (const message of chunk) {
      this.counts.consumed++
      this.metrics.alertsConsumed.inc({ sink: this.destination.name })
      let alert: Alert
      try {
        alert = await this.codec.decode(message.value)
      } catch (error) {
        if (error instanceof SchemaError && error.retriable) throw error
        deadLetters.push(this.deadLetter(message, source, error, 'decode', 0))
        continue
      }
      if (!meetsMinimumPriority(alert.priority, this.settings.minPriority)) {
        this.counts.filtered++
        this.metrics.alertsFiltered.inc({ sink: this.destination.name })
        continue
      }
      pending.push({ alert, message, attempts: 0 })
    }
    return { pending, deadLetters }
  }

  /**
   * Delivers the alerts, retrying the failed ones with exponential backoff and any Retry-After the
   * destination reports, until they succeed, fail for good or run out of attempts. Returns the
   * dead-letter records of those that never made it.
   */
  private async deliverWithRetries(
    alerts: PendingAlert[],
    source: { topic: string; partition: number },
    payload: EachBatchPayload,
  ): Promise<Message[]> {
    const deadLetters: Message[] = []
    let pending = alerts
    while (pending.length > 0) {
      const failures = await this.attempt(pending)
      const failed = new Map(failures.map((failure) => [failure.index, failure.error]))
      const notAttempted = new Set(
        failures.filter((failure) => failure.attempted === false).map((failure) => failure.index),
      )
      const retry: PendingAlert[] = []
      pending.forEach((item, index) => {
        if (!notAttempted.has(index)) item.attempts++
        if (!failed.has(index)) return
        item.lastError = failed.get(index)
        if (isRetriable(item.lastError) && item.attempts < this.settings.maxAttempts)
          retry.push(item)
        else
          deadLetters.push(
            this.deadLetter(item.message, source, item.lastError, 'deliver', item.attempts),
          )
      })
      this.recordOutcome('ok', pending.length - failed.size)
      if (retry.length === 0) break

      const delayMs = this.retryDelayMs(retry)
      this.recordOutcome('retried', retry.length, { delayMs, err: retry[0].lastError })
      await this.waitWithHeartbeats(delayMs, payload)
      pending = retry
    }
    return deadLetters
  }

  private async attempt(pending: PendingAlert[]): Promise<DeliveryFailure[]> {
    const stopTimer = this.metrics.deliveryDuration.startTimer({ sink: this.destination.name })
    try {
      return await this.destination.deliver(
        pending.map((item) => item.alert),
        this.abort.signal,
      )
    } catch (error) {
      if (this.abort.signal.aborted) throw error
      return pending.map((_item, index) => ({ index, error }))
    } finally {
      stopTimer()
    }
  }

  private retryDelayMs(retry: PendingAlert[]): number {
    const attempt = Math.max(...retry.map((item) => item.attempts))
    const requested = Math.max(
      0,
      ...retry.map((item) =>
        item.lastError instanceof SinkDeliveryError ? (item.lastError.retryAfterMs ?? 0) : 0,
      ),
    )
    // A Retry-After beyond retryMaxMs is cut to it: a receiver asking for a year would otherwise
    // stall the partition for that long while the consumer keeps heartbeating.
    return backoffDelayMs(
      attempt,
      { initialDelayMs: this.settings.retryInitialMs, maxDelayMs: this.settings.retryMaxMs },
      Math.random,
      Math.min(requested, this.settings.retryMaxMs),
    )
  }

  /** Sleeps in slices so the consumer keeps heartbeating while a long Retry-After runs. */
  private async waitWithHeartbeats(delayMs: number, payload: EachBatchPayload): Promise<void> {
    const sliceMs = 1000
    for (let waitedMs = 0; waitedMs < delayMs; waitedMs += sliceMs) {
      await sleep(Math.min(sliceMs, delayMs - waitedMs), undefined, { signal: this.abort.signal })
      await payload.heartbeat()
    }
  }

  private deadLetter(
    message: KafkaMessage,
    source: { topic: string; partition: number },
    error: unknown,
    stage: string,
    attempts: number,
  ): Message {
    this.counts.deadLettered++
    this.metrics.deadLettered.inc({ sink: this.destination.name, stage })
    if (stage === 'deliver')
      this.recordOutcome('failed', 1, { err: error, attempts, offset: message.offset })
    else
      this.logger.error(
        { err: error, stage, partition: source.partition, offset: message.offset },
        'alert sent to the dead-letter topic',
      )
    return toDeadLetterMessage({
      key: message.key,
      value: message.value,
      error,
      stage,
      attempts,
      source: { ...source, offset: message.offset },
    })
  }

  private async writeDeadLetters(messages: Message[]): Promise<void> {
    if (messages.length === 0) return
    try {
      await this.producer.send({ topic: this.settings.deadLetterTopic, messages, acks: -1 })
    } catch (error) {
      throw new KafkaError(
        `writing ${messages.length} alerts to ${this.settings.deadLetterTopic} failed: ${errorMessage(error)}`,
        {
          cause: error,
          retriable: true,
          context: { topic: this.settings.deadLetterTopic, sink: this.destination.name },
        },
      )
    }
  }

  /** Counts an outcome and logs it in one place, so the metric and the log line cannot drift. */
  private recordOutcome(
    outcome: DeliveryOutcome,
    count: number,
    fields: Record<string, unknown> = {},
  ): void {
    if (count <= 0) return
    this.metrics.deliveries.inc({ sink: this.destination.name, outcome }, count)
    if (outcome === 'ok') {
      this.counts.delivered += count
      this.logger.debug({ outcome, alerts: count }, 'alerts delivered')
    } else if (outcome === 'failed') {
      this.logger.error(
        { outcome, alerts: count, deadLetterTopic: this.settings.deadLetterTopic, ...fields },
        'alert delivery failed for good; sent to the dead-letter topic',
      )
    } else {
      this.logger.warn({ outcome, alerts: count, ...fields }, 'alert delivery failed; retrying')
    }
  }
}
