import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { KafkaMessage } from 'kafkajs'
import { createKafkaClient } from '../../core/kafka.js'
import { silentLogger } from '../../core/logger.js'
import { loadPeregrineConfig } from '../../core/peregrine-config.js'
import type { PeregrineConfig } from '../../core/peregrine-config.js'

/**
 * Config for one integration test: the broker and registry of the stack that the test command
 * started (passed in PEREGRINE_KAFKA_BROKERS and PEREGRINE_REGISTRY_URL), topics and groups
 * unique to the test so tests never see each other's records, metrics off, logs silent.
 */
export function integrationConfig(overrides: Record<string, string> = {}): PeregrineConfig {
  const prefix = `test.${randomBytes(4).toString('hex')}`
  return loadPeregrineConfig({
    env: process.env,
    overrides: {
      'topics.events': `${prefix}.events`,
      'topics.alerts': `${prefix}.alerts`,
      'topics.eventsDeadLetter': `${prefix}.events.dlq`,
      'topics.alertsDeadLetterPrefix': `${prefix}.alerts.dlq.`,
      'topics.partitions': '3',
      'processor.groupId': `${prefix}.processor`,
      'sink.groupIdPrefix': `${prefix}.sink.`,
      'metrics.port': '-1',
      'log.level': process.env.PEREGRINE_TEST_LOG_LEVEL ?? 'silent',
      'kafka.retries': '2',
      'sink.retryInitialMs': '50',
      'sink.retryMaxMs': '400',
      ...overrides,
    },
  })
}

/** Polls `check` until it returns true, failing with `description` after `timeoutMs`. */
export async function waitFor(
  description: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  if (!(await waitUntil(check, Date.now() + timeoutMs)))
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`)
}

/**
 * Polls `check` every 50 ms until it returns true or the clock passes `deadlineMs`. Returns
 * whether the check passed.
 */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  deadlineMs: number,
): Promise<boolean> {
  for (;;) {
    if (await check()) return true
    if (Date.now() > deadlineMs) return false
    await sleep(50)
  }
}

/**
 * Reads `count` records of a topic from the beginning with a throwaway consumer group, failing
 * after `timeoutMs`. Returns them in arrival order.
 */
export async function readRecords(
  config: PeregrineConfig,
  topic: string,
  count: number,
  timeoutMs = 60_000,
): Promise<KafkaMessage[]> {
  const client = createKafkaClient(config, 'test-reader', silentLogger())
  const consumer = client.consumer({ groupId: `test-reader-${randomBytes(4).toString('hex')}` })
  const records: KafkaMessage[] = []
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({
      eachMessage: async ({ message }) => {
        records.push(message)
      },
    })
    await waitFor(
      `${count} records on ${topic} (have ${records.length})`,
      () => records.length >= count,
      timeoutMs,
    )
    return records
  } finally {
    await consumer.disconnect()
  }
}
