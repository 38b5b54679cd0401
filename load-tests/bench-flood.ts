/**
 * `npm run bench:flood`: how much of a quiet process's activity reaches the events topic while
 * another process floods syscalls, with the producer's fair share on and off, in one run.
 *
 * For each setting, the live producer (eBPF source tracing openat plus the state syscalls) publishes
 * to a fresh events topic on the local stack. Meanwhile two syscall loops run side by side. The
 * flood opens and closes a file at --flood-rate operations per second (0: as fast as it can), and
 * the quiet loop does the same at --quiet-rate. Then the topic is read back and the openat events
 * of each loop counted. The default flood outruns Kafka but not the kernel ring, so the producer
 * buffer is where events are lost. A first run of WARM_UP_SECONDS is not reported, because the
 * first run after start-up publishes less (JIT, broker). The settings then run in the order
 * on, off, off, on, so a drift in the machine's load falls on both alike.
 *
 * Usage: node dist/load-tests/bench-flood.js [--seconds 20] [--flood-rate 25000]
 *          [--quiet-rate 50] [--share 200]
 * Needs root (or CAP_BPF and CAP_PERFMON) and a C compiler. Starts the local stack when it is not
 * running and stops it again afterwards.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import type { PeregrineConfig } from '../core/peregrine-config.js'
import { EbpfSource } from '../producer/ebpf-source.js'
import { SYSCALL_EVENT_SCHEMA } from '../schemas/index.js'
import { integrationConfig, waitUntil } from '../tests/support/harness.js'
import { collectTopic, startLiveProducer, totalDrops } from '../tests/support/live-pipeline.js'
import type { ViewField } from '../tests/support/live-pipeline.js'
import { OPENED_FILE, buildLoop, startLoop } from './bench-probe/syscall-loop.js'
import { withBenchStack } from './bench-stack.js'

/** Length of the unreported first run. */
const WARM_UP_SECONDS = 5
/** Time for the producer to publish what it read once the loops ended. */
const DRAIN_MS = 3000
/** Maximum time to read a run's topic back. */
const READ_BACK_MS = 180_000

/** The fields that tell which process opened which file, read without decoding the rest. */
const OPEN_FIELDS: ViewField[] = [
  { name: 'type', type: 'string' },
  {
    name: 'proc',
    type: { type: 'record', name: 'Process', fields: [{ name: 'pid', type: 'long' }] },
  },
  {
    name: 'fd',
    type: [
      'null',
      { type: 'record', name: 'FileDescriptor', fields: [{ name: 'name', type: 'string' }] },
    ],
    default: null,
  },
]

interface OpenView {
  type: string
  proc: { pid: number }
  fd: { name: string } | null
}

interface FloodRun {
  share: number
  floodOpensPerSecond: number
  floodOpensPublished: number
  quietOpens: number
  quietOpensPublished: number
  eventsRead: number
  eventsPublished: number
  droppedBufferFull: number
  droppedOther: number
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '20' },
      'flood-rate': { type: 'string', default: '25000' },
      'quiet-rate': { type: 'string', default: '50' },
      share: { type: 'string', default: '200' },
    },
  })
  const availability = EbpfSource.availability()
  if (!availability.isAvailable) {
    console.error(`cannot measure: the eBPF probe cannot run here: ${availability.reason}`)
    process.exitCode = 1
    return
  }
  const loadBefore = loadavg()[0]
  await withBenchStack(async (stack) => {
    const workDir = mkdtempSync(join(tmpdir(), 'peregrine-bench-flood-'))
    try {
      const loop = await buildLoop(workDir)
      const rates = { flood: Number(values['flood-rate']), quiet: Number(values['quiet-rate']) }
      const configFor = (share: number): PeregrineConfig =>
        integrationConfig({
          'kafka.brokers': stack.brokers.join(','),
          'registry.url': stack.registryUrl,
          'producer.fairShareEventsPerSecond': String(share),
        })
      await measure(configFor(0), loop, 0, WARM_UP_SECONDS, rates)
      const share = Number(values.share)
      const runs: FloodRun[] = []
      for (const setting of [share, 0, 0, share]) {
        runs.push(await measure(configFor(setting), loop, setting, Number(values.seconds), rates))
      }
      printReport(runs, Number(values.seconds), rates, loadBefore)
    } finally {
      rmSync(workDir, { recursive: true, force: true })
    }
  })
}

/** Runs the flood and the quiet loop under a live producer and counts their published opens. */
async function measure(
  config: PeregrineConfig,
  loop: string,
  share: number,
  seconds: number,
  rates: { flood: number; quiet: number },
): Promise<FloodRun> {
  const producer = startLiveProducer(config, ['openat'])
  // The producer is ready at its first event, so a quiet host is given one.
  while (!(await Promise.race([producer.ready.then(() => true), sleep(100, false)]))) {
    spawn('/bin/true', { stdio: 'ignore' })
  }

  const flood = startLoop(loop, 'open-close', seconds, rates.flood)
  const quiet = startLoop(loop, 'open-close', seconds, rates.quiet)
  const [floodResult, quietResult] = await Promise.all([flood.done, quiet.done])
  await sleep(DRAIN_MS)
  const drops = await producer.drops()
  const summary = await producer.stop()

  const opens = await countOpens(config, summary.eventsPublished)
  const bufferFull = drops.buffer_full ?? 0
  return {
    share,
    floodOpensPerSecond: Math.round(floodResult.operations / floodResult.seconds),
    floodOpensPublished: opens.get(flood.pid) ?? 0,
    quietOpens: quietResult.operations,
    quietOpensPublished: opens.get(quiet.pid) ?? 0,
    eventsRead: summary.eventsRead,
    eventsPublished: summary.eventsPublished,
    droppedBufferFull: bufferFull,
    droppedOther: totalDrops(drops) - bufferFull,
  }
}

/** Reads the run's events topic back and counts the opens of OPENED_FILE by process id. */
async function countOpens(
  config: PeregrineConfig,
  published: number,
): Promise<Map<number, number>> {
  const opens = new Map<number, number>()
  const countOpen = (view: unknown): boolean => {
    const event = view as OpenView
    if (event.type === 'openat' && event.fd?.name === OPENED_FILE) {
      opens.set(event.proc.pid, (opens.get(event.proc.pid) ?? 0) + 1)
    }
    return false
  }
  const collector = await collectTopic(
    config,
    config.topics.events,
    SYSCALL_EVENT_SCHEMA,
    () => false,
    { fields: OPEN_FIELDS, keep: countOpen },
  )
  try {
    const isComplete = await waitUntil(
      () => collector.consumed >= published,
      Date.now() + READ_BACK_MS,
    )
    if (!isComplete) {
      throw new Error(
        `timed out after ${READ_BACK_MS / 1000} s reading ${config.topics.events} back: ` +
          `${collector.consumed} of ${published} events read; lower --flood-rate or --seconds`,
      )
    }
    return opens
  } finally {
    await collector.stop()
  }
}

function printReport(
  runs: FloodRun[],
  seconds: number,
  rates: { flood: number; quiet: number },
  load: number,
): void {
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  const lines = [
    '',
    `Peregrine flood benchmark, ${new Date().toISOString()}`,
    `machine: ${cpus().length} x ${cpu}, Node ${process.version}, load average ${load.toFixed(1)}`,
    `${seconds} s per setting; flood paced at ${rates.flood || 'no limit of'} opens/s, ` +
      `quiet loop at ${rates.quiet} opens/s`,
    '',
    '| fair share (events/s per process) | flood opens/s | flood opens published | quiet opens | quiet opens published | events read | events published | dropped, buffer full | dropped, other |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ]
  for (const run of runs) {
    const quietShare = ((100 * run.quietOpensPublished) / Math.max(run.quietOpens, 1)).toFixed(1)
    lines.push(
      `| ${run.share === 0 ? 'off (0)' : run.share} | ${run.floodOpensPerSecond} | ` +
        `${run.floodOpensPublished} | ${run.quietOpens} | ${run.quietOpensPublished} ` +
        `(${quietShare} %) | ${run.eventsRead} | ${run.eventsPublished} | ` +
        `${run.droppedBufferFull} | ${run.droppedOther} |`,
    )
  }
  process.stdout.write(`${lines.join('\n')}\n`)
}

main().catch((error: unknown) => {
  process.stderr.write(
    `benchmark failed: ${error instanceof Error ? error.stack : String(error)}\n`,
  )
  process.exit(1)
})
