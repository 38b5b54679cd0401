import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Writable } from 'node:stream'
import type { Registry } from 'prom-client'
import { connectAdmin, createKafkaClient } from '../core/kafka.js'
import type { Logger } from '../core/logger.js'
import type { PeregrineConfig } from '../core/peregrine-config.js'
import { closeAll } from '../core/shutdown.js'
import { KafkaError, errorMessage } from '../core/errors.js'
import { startProcessor } from '../processors/main.js'
import type { RunningProcessor } from '../processors/main.js'
import type { RuleEvaluator } from '../processors/alert-builder.js'
import { runProducer } from '../producer/main.js'
import type { PublishSummary } from '../producer/event-publisher.js'
import type { EventSource } from '../producer/event-source.js'
import { startSink } from '../sinks/main.js'
import type { RunningSink } from '../sinks/main.js'
import { StdoutSink } from '../sinks/stdout-sink.js'
import type { StdoutFormat } from '../sinks/stdout-sink.js'

export interface DemoRun {
  config: PeregrineConfig
  logger: Logger
  metricsRegistry: Registry
  source: EventSource
  rules: RuleEvaluator
  output: Writable
  format: StdoutFormat
  /** Keeps the run's topics on the broker afterwards, for inspection. */
  keepTopics?: boolean
  /** Maximum wait for the processor and the sink to catch up once the source is drained, in ms. */
  drainTimeoutMs: number
  signal: AbortSignal
  /** For a live source: what happens once it is attached, and when the demo may stop. */
  live?: LiveDemo
}

export interface LiveDemo {
  /**
   * Runs once the live source delivers events, such as the scenarios. Returns the rules whose
   * alerts must be printed before the demo stops the source.
   */
  act: () => Promise<string[]>
}

export interface DemoSummary {
  source: string
  published: PublishSummary
  eventsProcessed: number
  eventsDeadLettered: number
  alertsByRule: Record<string, number>
  alertsDelivered: number
}

/**
 * Runs producer, processor and stdout sink in this process on the running stack, on topics and
 * consumer groups of this run only. So the demo prints exactly the alerts of its own events, even
 * when other processors run against the same broker. The run's topics are deleted afterwards
 * unless `keepTopics` is set.
 */
export async function runDemoPipeline(run: DemoRun): Promise<DemoSummary> {
  const { logger, metricsRegistry } = run
  const prefix = `peregrine.demo.${randomBytes(4).toString('hex')}`
  const config = withRunTopics(run.config, prefix)

  try {
    const processor = await startProcessor({ config, logger, metricsRegistry, rules: run.rules })
    const destination = new StdoutSink({ stream: run.output, format: run.format })
    const sink = await startSink({ config, logger, metricsRegistry, destination }).catch(
      async (error: unknown) => {
        await processor.close()
        throw error
      },
    )
    try {
      return await publishAndDrain(run, config, processor, sink)
    } finally {
      await closeAll([sink, processor])
    }
  } finally {
    if (run.keepTopics !== true) await deleteRunTopics(config, logger)
  }
}

async function publishAndDrain(
  run: DemoRun,
  config: PeregrineConfig,
  processor: RunningProcessor,
  sink: RunningSink,
): Promise<DemoSummary> {
  const { logger, metricsRegistry } = run
  const published =
    run.live === undefined
      ? await runProducer({
          config,
          logger,
          metricsRegistry,
          source: run.source,
          signal: run.signal,
        })
      : await runLiveProducer(run, config, run.live, processor, sink)
  await waitUntil(
    () => processor.stats().eventsCompleted >= published.eventsPublished,
    run,
    'the processor to evaluate every event',
  )
  const alerts = Object.values(processor.stats().alertsByRule).reduce(
    (sum, count) => sum + count,
    0,
  )
  await waitUntil(
    () => sink.stats().consumed >= alerts,
    run,
    'the stdout sink to print every alert',
  )
  const processed = processor.stats()
  return {
    source: run.source.name,
    published,
    eventsProcessed: processed.eventsCompleted,
    eventsDeadLettered: processed.eventsDeadLettered,
    alertsByRule: processed.alertsByRule,
    alertsDelivered: sink.stats().delivered,
  }
}

/**
 * Runs the producer on a live source until `live.act` has run and the alerts of the rules it
 * returned are printed, then stops the source and returns what was published.
 */
async function runLiveProducer(
  run: DemoRun,
  config: PeregrineConfig,
  live: LiveDemo,
  processor: RunningProcessor,
  sink: RunningSink,
): Promise<PublishSummary> {
  const stopping = new AbortController()
  const stop = (): void => stopping.abort()
  run.signal.addEventListener('abort', stop, { once: true })
  const state: { failure?: unknown } = {}
  const producing = runProducer({ ...run, config, signal: stopping.signal })
  producing.catch((error: unknown) => {
    state.failure = error
  })

  try {
    const ready = (): boolean => run.source.stats().eventsRead > 0 || state.failure !== undefined
    await waitUntil(ready, run, 'the live source to deliver its first event')
    if (state.failure === undefined) {
      const rules = await live.act()
      const printed = (): boolean => {
        if (state.failure !== undefined) return true
        const raised = processor.stats().alertsByRule
        const total = Object.values(raised).reduce((sum, count) => sum + count, 0)
        return rules.every((rule) => (raised[rule] ?? 0) > 0) && sink.stats().consumed >= total
      }
      await waitUntil(printed, run, 'the alerts of the scenarios').catch((error: unknown) => {
        const raised = processor.stats().alertsByRule
        const missing = rules.filter((rule) => (raised[rule] ?? 0) === 0)
        if (missing.length === 0) throw error
        throw new KafkaError(
          `${errorMessage(error)}; no alert arrived for: ${missing.join(', ')}`,
          { cause: error },
        )
      })
    }
  } catch (error) {
    stop()
    // The wait failed first; the producer's own outcome after the stop adds nothing to it.
    await producing.catch(() => {})
    throw error
  } finally {
    stop()
    run.signal.removeEventListener('abort', stop)
  }
  return await producing
}

/** Returns the config with topics and consumer groups named after this run. */
function withRunTopics(config: PeregrineConfig, prefix: string): PeregrineConfig {
  return {
    ...config,
    topics: {
      ...config.topics,
      events: `${prefix}.events.v1`,
      alerts: `${prefix}.alerts.v1`,
      eventsDeadLetter: `${prefix}.events.dlq`,
      alertsDeadLetterPrefix: `${prefix}.alerts.dlq.`,
    },
    processor: { ...config.processor, groupId: `${prefix}.processor` },
    sink: { ...config.sink, groupIdPrefix: `${prefix}.sink.` },
  }
}

/** Deletes the run's topics; a failure is logged, since the demo's output is already printed. */
async function deleteRunTopics(config: PeregrineConfig, logger: Logger): Promise<void> {
  const topics = [
    config.topics.events,
    config.topics.alerts,
    config.topics.eventsDeadLetter,
    `${config.topics.alertsDeadLetterPrefix}stdout`,
  ]
  try {
    const admin = await connectAdmin(createKafkaClient(config, 'demo', logger), config)
    try {
      const existing = new Set(await admin.listTopics())
      await admin.deleteTopics({ topics: topics.filter((topic) => existing.has(topic)) })
    } finally {
      await admin.disconnect()
    }
  } catch (error) {
    logger.warn({ err: error, topics }, 'deleting the demo topics failed; they stay on the broker')
  }
}

async function waitUntil(check: () => boolean, run: DemoRun, what: string): Promise<void> {
  const deadline = Date.now() + run.drainTimeoutMs
  while (!check()) {
    run.signal.throwIfAborted()
    if (Date.now() > deadline) {
      throw new KafkaError(
        `timed out after ${run.drainTimeoutMs} ms waiting for ${what}; check the log lines above for errors`,
      )
    }
    await sleep(50)
  }
}
