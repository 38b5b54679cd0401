/**
 * Measures what the live eBPF probe costs and delivers, in one run (`npm run bench:probe`):
 *
 * 1. A syscall-heavy loop (load-tests/bench-probe/syscall-loop.c) without the probe, then with
 *    the probe and the full EbpfSource building events. The loop runs open/close as fast as it
 *    can and paced at 200k syscalls/s (events/s delivered, loss), then getppid, which the probe
 *    does not trace (overhead per uncaptured syscall).
 * 2. A realistic workload: unpacking a tarball of the probe's own sources and building them
 *    (bpftool, clang and g++ through node-gyp), alternately without and with the probe.
 *
 * The probe traces the event types of the upstream stable and incubating rules when they are
 * found (PEREGRINE_UPSTREAM_DIR or ../shared/upstream), else openat and close, plus the state
 * syscalls. Needs root (or CAP_BPF and CAP_PERFMON), the built addon and a C compiler. Prints a
 * Markdown table, and JSON with --json. Numbers depend on the machine and its other load.
 *
 *   node dist/load-tests/bench-probe.js [--seconds 5] [--rounds 3] [--builds 3]
 *     [--rate 200000] [--ring-mib 32] [--json]
 */
import { execFile } from 'node:child_process'
import { cpus, tmpdir } from 'node:os'
import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs, promisify } from 'node:util'
import { loadRuleSet } from '../processors/rules/index.js'
import { EbpfSource } from '../producer/ebpf-source.js'
import { STATE_SYSCALLS, selectSyscalls } from '../producer/ebpf/syscall-selection.js'
import { PROJECT_ROOT } from '../schemas/index.js'
import { missingUpstream, upstreamPath } from '../tests/support/upstream.js'
import type { SourceStats } from '../producer/event-source.js'
import { buildLoop, startLoop } from './bench-probe/syscall-loop.js'
import type { LoopResult } from './bench-probe/syscall-loop.js'

const run = promisify(execFile)
/** Kernel ring buffer size of every probe the benchmark opens (--ring-mib). */
let ringBytes = 32 * 1024 * 1024
const RULES_FILES = [
  upstreamPath('falco-rules', 'falco_rules.yaml'),
  upstreamPath('falco-rules', 'falco-incubating_rules.yaml'),
]

interface BaseRound {
  openClose: LoopResult
  getppid: LoopResult
}

interface TracedRound {
  openClose: TracedLoop
  paced: TracedLoop
  getppid: TracedLoop
}

interface TracedLoop extends LoopResult {
  /** Events of the loop's own process that the source delivered. */
  loopEvents: number
  /** Events delivered per second of the loop. */
  eventsPerSecond: number
  /** Records lost in the kernel over the records the kernel tried to write. */
  lossRatio: number
  lost: number
  /**
   * CPU time of this process, which consumes the events, over the time from the loop's start until
   * the source drained; V8's garbage collector threads count too, so it can pass 1.
   */
  consumerCpuRatio: number
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '5' },
      builds: { type: 'string', default: '3' },
      rate: { type: 'string', default: '200000' },
      rounds: { type: 'string', default: '3' },
      'ring-mib': { type: 'string', default: '32' },
      json: { type: 'boolean', default: false },
    },
  })
  const seconds = Number(values.seconds)
  const pacedSyscallsPerSecond = Number(values.rate)
  const availability = EbpfSource.availability()
  if (!availability.isAvailable) {
    console.error(`cannot measure: the eBPF probe cannot run here: ${availability.reason}`)
    process.exitCode = 1
    return
  }

  const workDir = mkdtempSync(join(tmpdir(), 'peregrine-bench-probe-'))
  try {
    const loop = await buildLoop(workDir)
    const syscalls = benchSyscalls()
    ringBytes = Number(values['ring-mib']) * 1024 * 1024

    const probesBefore = await countAttachedProbes()
    const rounds: Array<{ base: BaseRound; traced: TracedRound }> = []
    for (let round = 0; round < Number(values.rounds); round++) {
      const base = {
        openClose: await runLoop(loop, 'open-close', seconds, 0),
        getppid: await runLoop(loop, 'getppid', seconds, 0),
      }
      const traced = await withSource(syscalls.list, async (source) => ({
        openClose: await tracedLoop(source, loop, 'open-close', seconds, 0),
        paced: await tracedLoop(source, loop, 'open-close', seconds, pacedSyscallsPerSecond / 2),
        getppid: await tracedLoop(source, loop, 'getppid', seconds, 0),
      }))
      rounds.push({ base, traced })
    }
    const base = medianRound(rounds.map((round) => round.base))
    const traced = medianRound(rounds.map((round) => round.traced))
    const builds = await measureBuilds(workDir, Number(values.builds), syscalls.list)

    const report = {
      date: new Date().toISOString(),
      machine: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, ring ${ringBytes / 1024 / 1024} MiB`,
      syscalls: syscalls.description,
      otherProbes: { before: probesBefore, after: await countAttachedProbes() },
      loop: { seconds, rounds: rounds.length, base, traced },
      builds,
    }
    if (values.json) console.log(JSON.stringify(report, null, 2))
    else printReport(report)
  } finally {
    rmSync(workDir, { recursive: true, force: true })
  }
}

function benchSyscalls(): { list: string[]; description: string } {
  if (missingUpstream(...RULES_FILES) === undefined) {
    const rules = loadRuleSet(RULES_FILES, { minPriority: 'debug' })
    const list = selectSyscalls(rules.eventTypes()).syscalls
    return { list, description: `upstream stable + incubating rules (${list.length} syscalls)` }
  }
  const list = selectSyscalls(['openat', 'close']).syscalls
  return {
    list,
    description: `openat and ${STATE_SYSCALLS.join(', ')} (upstream rules not found)`,
  }
}

/** Runs `task` with an EbpfSource consuming, and counting, every event in the background. */
async function withSource<T>(
  syscalls: string[],
  task: (source: CountingSource) => Promise<T>,
): Promise<T> {
  const source = new CountingSource(syscalls)
  try {
    await source.waitUntilAttached()
    return await task(source)
  } finally {
    await source.stop()
  }
}

class CountingSource {
  readonly source: EbpfSource
  private readonly controller = new AbortController()
  private readonly consuming: Promise<void>
  /** Events of the process with this id, the loop currently measured, are counted. */
  watchedPid = -1
  watchedEvents = 0

  constructor(syscalls: string[]) {
    this.source = new EbpfSource({ syscalls, ringBytes })
    this.consuming = this.consume()
  }

  private async consume(): Promise<void> {
    for await (const event of this.source.events(this.controller.signal)) {
      if (event.proc.pid === this.watchedPid) this.watchedEvents++
    }
  }

  async waitUntilAttached(): Promise<void> {
    while (this.source.stats().eventsRead === 0) await runLoop('/bin/true', '', 0, 0)
  }

  async stop(): Promise<void> {
    this.controller.abort()
    await this.consuming
  }
}

async function tracedLoop(
  counting: CountingSource,
  loop: string,
  mode: string,
  seconds: number,
  operationsPerSecond: number,
): Promise<TracedLoop> {
  const before = counting.source.stats()
  const cpuBefore = process.cpuUsage()
  const startedNs = process.hrtime.bigint()
  counting.watchedEvents = 0
  const child = startLoop(loop, mode, seconds, operationsPerSecond)
  counting.watchedPid = child.pid
  const result = await child.done
  await drain(counting)
  const cpu = process.cpuUsage(cpuBefore)
  const wallSeconds = Number(process.hrtime.bigint() - startedNs) / 1e9
  const after = counting.source.stats()

  const lost = kernelDrops(after) - kernelDrops(before)
  const written = (after.kernelRecords ?? 0) - (before.kernelRecords ?? 0)
  return {
    ...result,
    loopEvents: counting.watchedEvents,
    eventsPerSecond: Math.round(counting.watchedEvents / result.seconds),
    lost,
    lossRatio: lost / Math.max(written + lost, 1),
    consumerCpuRatio: (cpu.user + cpu.system) / 1e6 / wallSeconds,
  }
}

/** Waits until the source delivered nothing new for 100 ms. */
async function drain(counting: CountingSource): Promise<void> {
  for (;;) {
    const before = counting.source.stats().eventsRead
    await new Promise((resolve) => setTimeout(resolve, 100))
    if (counting.source.stats().eventsRead === before) return
  }
}

function kernelDrops(stats: SourceStats): number {
  return (stats.dropped.ring_full ?? 0) + (stats.dropped.stash_full ?? 0)
}

async function runLoop(
  program: string,
  mode: string,
  seconds: number,
  rate: number,
): Promise<LoopResult> {
  if (mode === '') {
    await run(program, [])
    return { operations: 0, seconds: 0 }
  }
  return await startLoop(program, mode, seconds, rate).done
}

interface BuildTimes {
  withoutProbeSeconds: number[]
  withProbeSeconds: number[]
  medianWithout: number
  medianWith: number
  overheadRatio: number
  eventsPerBuild: number
  lossRatio: number
}

/**
 * Unpacks a tarball of native/ (with node-addon-api beside it) and builds the addon there,
 * alternating runs without and with the probe so drift in the machine's load hits both alike.
 */
async function measureBuilds(
  workDir: string,
  count: number,
  syscalls: string[],
): Promise<BuildTimes> {
  const tarball = join(workDir, 'probe-sources.tar.gz')
  await run('tar', [
    'czf',
    tarball,
    '-C',
    PROJECT_ROOT,
    '--exclude=native/build',
    'native',
    'node_modules/node-addon-api',
  ])
  const without: number[] = []
  const withProbe: number[] = []
  let events = 0
  let lost = 0
  let written = 0
  for (let i = 0; i < count; i++) {
    without.push(await timeBuild(workDir, tarball, i, 'plain'))
    await withSource(syscalls, async (counting) => {
      const before = counting.source.stats()
      withProbe.push(await timeBuild(workDir, tarball, i, 'traced'))
      await drain(counting)
      const after = counting.source.stats()
      events += after.eventsRead - before.eventsRead
      lost += kernelDrops(after) - kernelDrops(before)
      written += (after.kernelRecords ?? 0) - (before.kernelRecords ?? 0)
    })
  }
  const medianWithout = median(without)
  const medianWith = median(withProbe)
  return {
    withoutProbeSeconds: without,
    withProbeSeconds: withProbe,
    medianWithout,
    medianWith,
    overheadRatio: medianWith / medianWithout - 1,
    eventsPerBuild: Math.round(events / count),
    lossRatio: lost / Math.max(written + lost, 1),
  }
}

async function timeBuild(workDir: string, tarball: string, index: number, label: string) {
  const dir = join(workDir, `${label}-${index}`)
  const started = process.hrtime.bigint()
  await run('mkdir', ['-p', dir])
  await run('tar', ['xzf', tarball, '-C', dir])
  await run(process.execPath, [join(dir, 'native', 'scripts', 'build-addon.mjs')], {
    maxBuffer: 64 * 1024 * 1024,
  })
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  rmSync(dir, { recursive: true, force: true })
  return seconds
}

/**
 * Returns, for each loop of the rounds, the round whose rate is the median one. Whole rounds are
 * kept, so the numbers of one row come from one run.
 */
function medianRound<T extends object>(rounds: T[]): T {
  const first = rounds[0] as Record<string, LoopResult>
  const result: Record<string, LoopResult> = {}
  for (const key of Object.keys(first)) {
    const sorted = rounds
      .map((round) => (round as Record<string, LoopResult>)[key])
      .sort((a, b) => a.operations / a.seconds - b.operations / b.seconds)
    result[key] = sorted[Math.floor(sorted.length / 2)]
  }
  return result as T
}

/**
 * Counts the probe programs attached on this host, this benchmark's own excluded: other
 * processes' probes (tests of another checkout, say) slow every syscall and skew the numbers.
 */
async function countAttachedProbes(): Promise<number | null> {
  try {
    const { stdout } = await run('bpftool', ['prog', 'show'])
    return stdout.split('\n').filter((line) => line.includes('pg_sys_enter')).length
  } catch {
    // Without bpftool the count is unknown, and the report prints it as such.
    return null
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

function printReport(report: {
  date: string
  machine: string
  syscalls: string
  otherProbes: { before: number | null; after: number | null }
  loop: {
    seconds: number
    rounds: number
    base: BaseRound
    traced: TracedRound
  }
  builds: BuildTimes
}): void {
  const { base, traced } = report.loop
  const perSyscallNs = (result: LoopResult): number =>
    (result.seconds * 1e9) / (result.operations * 2)
  const rate = (result: LoopResult): string =>
    Math.round((result.operations * 2) / result.seconds).toLocaleString('en-US')
  const percent = (ratio: number): string => `${(ratio * 100).toFixed(3)} %`
  const lines = [
    `date: ${report.date}`,
    `machine: ${report.machine}`,
    `traced syscalls: ${report.syscalls}`,
    `probes of other processes attached at start and end: ${report.otherProbes.before ?? 'unknown'}, ${report.otherProbes.after ?? 'unknown'}`,
    `syscall loops: median of ${report.loop.rounds} rounds of ${report.loop.seconds} s each`,
    '',
    '| loop | syscalls/s | events/s delivered | loss | consumer CPU | ns per syscall |',
    '| --- | --- | --- | --- | --- | --- |',
    `| open/close, no probe | ${rate(base.openClose)} | | | | ${perSyscallNs(base.openClose).toFixed(0)} |`,
    ...(['openClose', 'paced'] as const).map((key) => {
      const result = traced[key]
      const label = key === 'paced' ? 'open/close, probe, paced' : 'open/close, probe'
      return `| ${label} | ${rate(result)} | ${result.eventsPerSecond.toLocaleString('en-US')} | ${percent(result.lossRatio)} (${result.lost}) | ${percent(result.consumerCpuRatio)} | ${perSyscallNs(result).toFixed(0)} |`
    }),
    `| getppid, no probe | ${rate(base.getppid)} | | | | ${perSyscallNs(base.getppid).toFixed(0)} |`,
    `| getppid, probe (not traced) | ${rate(traced.getppid)} | | | | ${perSyscallNs(traced.getppid).toFixed(0)} |`,
    '',
    `overhead per captured syscall: ${(perSyscallNs(traced.openClose) - perSyscallNs(base.openClose)).toFixed(0)} ns`,
    `overhead per uncaptured syscall: ${(perSyscallNs(traced.getppid) - perSyscallNs(base.getppid)).toFixed(0)} ns`,
    '',
    `build of the addon from a tarball, ${report.builds.withoutProbeSeconds.length} runs each:`,
    `  without probe: median ${report.builds.medianWithout.toFixed(2)} s (${report.builds.withoutProbeSeconds.map((s) => s.toFixed(2)).join(', ')})`,
    `  with probe:    median ${report.builds.medianWith.toFixed(2)} s (${report.builds.withProbeSeconds.map((s) => s.toFixed(2)).join(', ')})`,
    `  overhead: ${(report.builds.overheadRatio * 100).toFixed(1)} %, ${report.builds.eventsPerBuild.toLocaleString('en-US')} events per build, loss ${percent(report.builds.lossRatio)}`,
  ]
  console.log(lines.join('\n'))
}

await main()
