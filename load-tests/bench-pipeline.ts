/**
 * `npm run bench`: events per second of the producer and of the processor on the local stack.
 *
 * 1. Avro encoding alone (no Kafka), as the ceiling the producer can approach.
 * 2. Producer: the synthetic generator publishes N events to a fresh events topic.
 * 3. Processor: a fresh consumer group evaluates the bundled rules on those N events and writes
 *    the alerts. The clock runs from the first consumed event until every event's alerts are
 *    acknowledged.
 *
 * Usage: node dist/load-tests/bench-pipeline.js [--events N] [--rules FILE...]
 * Starts the local stack when it is not running and stops it again afterwards.
 */
import { randomBytes } from 'node:crypto'
import { cpus } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import avro from 'avsc'
import type { Type } from 'avsc'
import { parseSchema } from '../core/avro-codec.js'
import { toJsonText } from '../core/json.js'
import { createLogger } from '../core/logger.js'
import { createMetricsRegistry } from '../core/metrics.js'
import { loadPeregrineConfig } from '../core/peregrine-config.js'
import type { PeregrineConfig } from '../core/peregrine-config.js'
import { startProcessor } from '../processors/main.js'
import { loadProcessorRules } from '../processors/rules-loader.js'
import { GeneratorSource } from '../producer/generator-source.js'
import { runProducer } from '../producer/main.js'
import { SYSCALL_EVENT_SCHEMA } from '../schemas/index.js'
import { withBenchStack } from './bench-stack.js'

const DEFAULT_EVENTS = 200_000
const ENCODE_SAMPLE_EVENTS = 100_000
const ENCODE_WARMUP_EVENTS = 20_000

interface Measurement {
  name: string
  events: number
  seconds: number
}

async function main(): Promise<void> {
  const events = readNumberArgument('--events', DEFAULT_EVENTS)
  const rulesFiles = readListArgument('--rules')
  await withBenchStack(async (stack) => {
    const config = benchConfig(stack.brokers, stack.registryUrl)
    const results = [
      ...measureEncoding(),
      await measureProducer(config, events),
      await measureProcessor(config, events, rulesFiles),
    ]
    printReport(results, events)
  })
}

/**
 * Times Avro encoding of generated events with Peregrine's exact long, and with avsc's built-in
 * long on the same events cut below 2^53, to show what exact 64-bit values cost.
 */
function measureEncoding(): Measurement[] {
  const generator = new GeneratorSource({ count: ENCODE_SAMPLE_EVENTS, hostname: 'bench' })
  let seed = 1
  const random = (): number => {
    seed = (seed * 16807) % 2147483647
    return seed / 2147483647
  }
  const sample = Array.from({ length: 1000 }, (_, index) => generator.makeEvent(index, random))
  const rounded = sample.map(
    (event) => JSON.parse(toJsonText(event), cutBelowSafeInteger) as unknown,
  )
  return [
    timeEncoding(
      'Avro encoding, exact 64-bit longs (no Kafka)',
      parseSchema(SYSCALL_EVENT_SCHEMA),
      sample,
    ),
    timeEncoding(
      "Avro encoding, avsc's rounding longs (no Kafka)",
      avro.Type.forSchema(SYSCALL_EVENT_SCHEMA),
      rounded,
    ),
  ]
}

function cutBelowSafeInteger(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isSafeInteger(value) ? value % 2 ** 40 : value
}

function timeEncoding(name: string, type: Type, sample: unknown[]): Measurement {
  for (let index = 0; index < ENCODE_WARMUP_EVENTS; index++)
    type.toBuffer(sample[index % sample.length])
  const startedAt = process.hrtime.bigint()
  for (let index = 0; index < ENCODE_SAMPLE_EVENTS; index++)
    type.toBuffer(sample[index % sample.length])
  return { name, events: ENCODE_SAMPLE_EVENTS, seconds: elapsedSeconds(startedAt) }
}

async function measureProducer(config: PeregrineConfig, events: number): Promise<Measurement> {
  const source = new GeneratorSource({ count: events, hostname: 'bench-host' })
  const startedAt = process.hrtime.bigint()
  const summary = await runProducer({
    config,
    logger: silent(),
    metricsRegistry: createMetricsRegistry(),
    source,
    signal: new AbortController().signal,
  })
  return {
    name: 'producer: generator -> events topic',
    events: summary.eventsPublished,
    seconds: elapsedSeconds(startedAt),
  }
}

async function measureProcessor(
  config: PeregrineConfig,
  events: number,
  rulesFiles: string[],
): Promise<Measurement> {
  const rules = loadProcessorRules(rulesFiles, 'debug', silent())
  const processor = await startProcessor({
    config,
    logger: silent(),
    metricsRegistry: createMetricsRegistry(),
    rules,
  })
  try {
    // The clock starts at the first consumed event, so the consumer group join is not counted.
    while (processor.stats().eventsCompleted === 0) await sleep(5)
    const startedAt = process.hrtime.bigint()
    const consumedAtStart = processor.stats().eventsCompleted
    while (processor.stats().eventsCompleted < events) await sleep(5)
    const measured = events - consumedAtStart
    return {
      name: 'processor: events topic -> rules -> alerts topic',
      events: measured,
      seconds: elapsedSeconds(startedAt),
    }
  } finally {
    await processor.close()
  }
}

function benchConfig(brokers: string[], registryUrl: string): PeregrineConfig {
  const prefix = `bench.${randomBytes(3).toString('hex')}`
  return loadPeregrineConfig({
    env: process.env,
    overrides: {
      'kafka.brokers': brokers.join(','),
      'registry.url': registryUrl,
      'topics.events': `${prefix}.events`,
      'topics.alerts': `${prefix}.alerts`,
      'topics.eventsDeadLetter': `${prefix}.events.dlq`,
      'processor.groupId': `${prefix}.processor`,
      'metrics.port': '-1',
    },
  })
}

function printReport(results: Measurement[], events: number): void {
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  process.stdout.write(`\nPeregrine pipeline benchmark, ${new Date().toISOString()}\n`)
  process.stdout.write(
    `machine: ${cpus().length} x ${cpu}, Node ${process.version}; ${events} generated events\n\n`,
  )
  process.stdout.write('| stage | events | seconds | events/s |\n| --- | --- | --- | --- |\n')
  for (const result of results) {
    const rate = Math.round(result.events / result.seconds)
    process.stdout.write(
      `| ${result.name} | ${result.events} | ${result.seconds.toFixed(2)} | ${rate} |\n`,
    )
  }
}

function elapsedSeconds(startedAt: bigint): number {
  return Number(process.hrtime.bigint() - startedAt) / 1e9
}

function silent() {
  return createLogger({ service: 'bench', version: 'bench', level: 'silent' })
}

function readNumberArgument(name: string, fallback: number): number {
  const index = process.argv.indexOf(name)
  return index > 0 ? Number(process.argv[index + 1]) : fallback
}

function readListArgument(name: string): string[] {
  const index = process.argv.indexOf(name)
  if (index < 0) return []
  const values: string[] = []
  for (const value of process.argv.slice(index + 1)) {
    if (value.startsWith('--')) break
    values.push(value)
  }
  return values
}

main().catch((error: unknown) => {
  process.stderr.write(
    `benchmark failed: ${error instanceof Error ? error.stack : String(error)}\n`,
  )
  process.exit(1)
})
