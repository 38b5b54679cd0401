import kafkajs from 'kafkajs'
import type { Consumer, EachBatchPayload, KafkaMessage, Message, Producer } from 'kafkajs'
import type { AvroCodec } from '../core/avro-codec.js'
import { toDeadLetterMessage } from '../core/dead-letter.js'
import { KafkaError, RuleError, SchemaError, errorMessage } from '../core/errors.js'
import type { Logger } from '../core/logger.js'
import type { Alert, SyscallEvent } from '../schemas/types.js'
import { buildAlert } from './alert-builder.js'
import type { RuleEvaluator } from './alert-builder.js'
import type { ProcessorMetrics } from './metrics.js'

const { CompressionTypes } = kafkajs

/**
 * Largest alert record written, below Kafka's default 1 MB record limit. Output values are cut
 * well below this; an alert still past it (a rule printing hundreds of long fields) sends its
 * event to the dead-letter topic instead of stalling the partition on a write Kafka rejects.
 */
const MAX_ALERT_BYTES = 900_000

export interface RuleProcessorSettings {
  eventsTopic: string
  alertsTopic: string
  deadLetterTopic: string
  /** Events decoded and evaluated before their alerts are written and their offsets resolved. */
  chunkEvents: number
}

export interface ProcessorStats {
  eventsConsumed: number
  /** Events whose alerts and dead letters Kafka has acknowledged. */
  eventsCompleted: number
  eventsDeadLettered: number
  alertsByRule: Record<string, number>
}

interface ChunkOutput {
  alerts: Message[]
  deadLetters: Message[]
  /** Rule and priority of each alert, counted once the alerts are acknowledged. */
  matches: Array<{ rule: string; priority: string }>
  deadLetterStages: string[]
}

/**
 * Consumes events, evaluates the rules on each and writes one alert per match. Offsets move only
 * after the alerts of the events before them are acknowledged by Kafka, so a crash replays events
 * rather than losing alerts (at-least-once). A record that does not decode, or whose evaluation
 * throws, goes to the dead-letter topic with the reason and processing continues.
 */
export class RuleProcessor {
  private readonly consumer: Consumer
  private readonly producer: Producer
  private readonly eventCodec: AvroCodec<SyscallEvent>
  private readonly alertCodec: AvroCodec<Alert>
  private readonly rules: RuleEvaluator
  private readonly settings: RuleProcessorSettings
  private readonly metrics: ProcessorMetrics
  private readonly logger: Logger
  private readonly counts: ProcessorStats = {
    eventsConsumed: 0,
    eventsCompleted: 0,
    eventsDeadLettered: 0,
    alertsByRule: {},
  }

  constructor(options: {
    consumer: Consumer
    producer: Producer
    eventCodec: AvroCodec<SyscallEvent>
    alertCodec: AvroCodec<Alert>
    rules: RuleEvaluator
    settings: RuleProcessorSettings
    metrics: ProcessorMetrics
    logger: Logger
  }) {
    this.consumer = options.consumer
    this.producer = options.producer
    this.eventCodec = options.eventCodec
    this.alertCodec = options.alertCodec
    this.rules = options.rules
    this.settings = options.settings
    this.metrics = options.metrics
    this.logger = options.logger.child({
      component: 'rule-processor',
      topic: options.settings.eventsTopic,
    })
  }

  /** Subscribes and starts the consume loop; returns once the loop runs. */
  async start(): Promise<void> {
    await this.consumer.subscribe({ topic: this.settings.eventsTopic, fromBeginning: true })
    await this.consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.handleBatch(payload),
    })
  }

  /** Counts since start, for summaries and tests. */
  stats(): ProcessorStats {
    return { ...this.counts, alertsByRule: { ...this.counts.alertsByRule } }
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload
    for (let start = 0; start < batch.messages.length; start += this.settings.chunkEvents) {
      if (!payload.isRunning() || payload.isStale()) return
      const chunk = batch.messages.slice(start, start + this.settings.chunkEvents)
      const startedAt = process.hrtime.bigint()

      const output = await this.processChunk(batch.topic, batch.partition, chunk)
      await this.write(output)
      this.countOutput(output, chunk.length)

      payload.resolveOffset(chunk[chunk.length - 1].offset)
      this.metrics.batchDuration.observe(Number(process.hrtime.bigint() - startedAt) / 1e9)
      await payload.heartbeat()
    }
    await payload.commitOffsetsIfNecessary()
  }

  private async processChunk(
    topic: string,
    partition: number,
    messages: KafkaMessage[],
  ): Promise<ChunkOutput> {
    const output: ChunkOutput = { alerts: [], deadLetters: [], matches: [], deadLetterStages: [] }
    for (const message of messages) {
      this.counts.eventsConsumed++
      this.metrics.eventsConsumed.inc()
      const position = { topic, partition, offset: message.offset }

      let event: SyscallEvent
      try {
        event = await this.eventCodec.decode(message.value)
      } catch (error) {
        // A registry outage is retriable: rethrow so KafkaJS retries the batch from its last resolved offset.
        if (error instanceof SchemaError && error.retriable) throw error
        this.deadLetter(output, message, position, error, 'decode')
        continue
      }

      try {
        for (const match of this.rules.evaluate(event)) {
          const value = this.alertCodec.encode(buildAlert(match, event, position))
          if (value.length > MAX_ALERT_BYTES) throw oversizedAlert(match.rule, value.length)
          output.alerts.push({ key: event.hostname, value })
          output.matches.push({ rule: match.rule, priority: match.priority })
        }
      } catch (error) {
        this.deadLetter(output, message, position, error, 'evaluate')
      }
    }
    return output
  }

  private deadLetter(
    output: ChunkOutput,
    message: KafkaMessage,
    source: { topic: string; partition: number; offset: string },
    error: unknown,
    stage: string,
  ): void {
    output.deadLetterStages.push(stage)
    this.logger.warn(
      { err: error, partition: source.partition, offset: source.offset, stage },
      'event sent to the dead-letter topic',
    )
    output.deadLetters.push(
      toDeadLetterMessage({ key: message.key, value: message.value, error, stage, source }),
    )
  }

  private countOutput(output: ChunkOutput, events: number): void {
    this.counts.eventsCompleted += events
    for (const { rule, priority } of output.matches) {
      this.counts.alertsByRule[rule] = (this.counts.alertsByRule[rule] ?? 0) + 1
      this.metrics.ruleMatches.inc({ rule_id: rule, priority })
    }
    for (const stage of output.deadLetterStages) {
      this.counts.eventsDeadLettered++
      this.metrics.eventsDeadLettered.inc({ stage })
    }
  }

  private async write(output: ChunkOutput): Promise<void> {
    const topicMessages = [
      { topic: this.settings.alertsTopic, messages: output.alerts },
      { topic: this.settings.deadLetterTopic, messages: output.deadLetters },
    ].filter((entry) => entry.messages.length > 0)
    if (topicMessages.length === 0) return
    try {
      await this.producer.sendBatch({ topicMessages, acks: -1, compression: CompressionTypes.GZIP })
    } catch (error) {
      throw new KafkaError(
        `writing ${output.alerts.length} alerts and ${output.deadLetters.length} dead letters failed: ${errorMessage(error)}`,
        {
          cause: error,
          retriable: true,
          context: { topic: this.settings.alertsTopic },
        },
      )
    }
  }
}

function oversizedAlert(rule: string, bytes: number): RuleError {
  return new RuleError(
    `alert of rule "${rule}" is ${bytes} bytes, above the ${MAX_ALERT_BYTES}-byte record limit`,
    {
      evaluation: true,
      context: { ruleId: rule },
    },
  )
}
