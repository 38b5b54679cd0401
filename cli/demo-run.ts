import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Writable } from 'node:stream'
import type { Registry } from 'prom-client'
import { connectAdmin, createKafkaClient, ensureTopics } from '../core/kafka.js'
import type { Logger } from '../core/logger.js'
import type { PeregrineConfig } from '../core/peregrine-config.js'
import { retry } from '../core/retry.js'
import { closeAll } from '../core/shutdown.js'
import { KafkaError } from '../core/errors.js'
import { startProcessor } from '../processors/main.js'
import type { RuleEvaluator } from '../processors/alert-builder.js'
import { runProducer } from '../producer/main.js'
import type { PublishSummary } from '../producer/event-publisher.js'
import type { EventSource } from '../producer/event-source.js'
import { startSink } from '../sinks/main.js'
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
  /** Maximum wait for the processor and the sink to catch up once the source is drained, in ms. */
  drainTimeoutMs: number
  signal: AbortSignal
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
 * Runs producer, processor and stdout sink in this process on the running stack. The processor and
 * the sink get consumer groups of their own, placed at the current end of the topics before the
 * producer starts. So the demo prints the alerts of this run's events only, whatever the topics
 * already hold.
 */
export async function runDemoPipeline(run: DemoRun): Promise<DemoSummary> {
  const { config, logger, metricsRegistry } = run
  const runId = randomBytes(4).toString('hex')
  const processorGroup = `peregrine-demo-${runId}-processor`
  const sinkGroup = `peregrine-demo-${runId}-sink`
  await placeGroupsAtEnd(config, logger, [
    { groupId: processorGroup, topic: config.topics.events },
    { groupId: sinkGroup, topic: config.topics.alerts },
  ])

  const processor = await startProcessor({
    config,
    logger,
    metricsRegistry,
    rules: run.rules,
    groupId: processorGroup,
  })
  const destination = new StdoutSink({ stream: run.output, format: run.format })
  const sink = await startSink({
    config,
    logger,
    metricsRegistry,
    destination,
    groupId: sinkGroup,
  }).catch(async (error: unknown) => {
    await processor.close()
    throw error
  })

  try {
    const published = await runProducer({
      config,
      logger,
      metricsRegistry,
      source: run.source,
      signal: run.signal,
    })
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
  } finally {
    await closeAll([sink, processor])
  }
}

/** Commits the current end offsets of each topic for a new consumer group. */
async function placeGroupsAtEnd(
  config: PeregrineConfig,
  logger: Logger,
  groups: Array<{ groupId: string; topic: string }>,
): Promise<void> {
  const client = createKafkaClient(config, 'demo', logger)
  await ensureTopics(client, config, [
    config.topics.events,
    config.topics.alerts,
    config.topics.eventsDeadLetter,
  ])
  const admin = await connectAdmin(client, config)
  try {
    for (const { groupId, topic } of groups) {
      // Leadership of just-created partitions can take a moment to reach every broker's metadata,
      // and KafkaJS marks the resulting NOT_LEADER error retriable.
      await retry(
        async () => {
          const offsets = await admin.fetchTopicOffsets(topic)
          await admin.setOffsets({
            groupId,
            topic,
            partitions: offsets.map(({ partition, high }) => ({ partition, offset: high })),
          })
        },
        { maxAttempts: 10, initialDelayMs: 100, maxDelayMs: 1000 },
      )
    }
  } finally {
    await admin.disconnect()
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
