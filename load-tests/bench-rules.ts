/**
 * `npm run bench:rules`: events per second per core of the rules engine alone (no Kafka, no
 * decoding), next to sysdig 0.29 evaluating the same rules on the same capture.
 *
 * 1. The legacy single-file Falco rules (78 rules, 57 enabled) over the events of the largest
 *    readable upstream capture, sysdig-inspect/502Error.scap, read once through CaptureSource.
 * 2. sysdig evaluating those rules in one run over the same capture, their expanded conditions
 *    joined with `or`: one pass over the events, as Falco evaluates every rule in one pass.
 *    Peregrine runs on exactly the rules sysdig compiles, for a ratio over the same work.
 * 3. The stable rules (falco_rules.yaml) on the generator's mix of events, keeping only the event
 *    types the rules need, as the probe does in the kernel.
 *
 * Rates are events per CPU second of this process (user + system), so other load on the machine
 * lowers them less than wall-clock rates; evaluation runs on one thread. sysdig's CPU time is read
 * from bash's `times` after each run.
 *
 * Usage: node dist/load-tests/bench-rules.js [--seconds N] [--upstream DIR]
 */
import { execFileSync } from 'node:child_process'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '../core/logger.js'
import { loadRuleSet } from '../processors/rules/index.js'
import type { RuleSet } from '../processors/rules/index.js'
import { CaptureSource } from '../producer/capture-source.js'
import { GeneratorSource, seededRandom } from '../producer/generator-source.js'
import type { SyscallEvent } from '../schemas/types.js'
import { UPSTREAM_DIR, missingUpstream } from '../tests/support/upstream.js'

const DEFAULT_SECONDS = 5
const SYSDIG_RUNS = 7
/** Events evaluated in a loop for the hot rate: about what a processor decodes per fetch. */
const HOT_POOL_EVENTS = 4096
/** Distinct events for the cold rate, each evaluated once per pass, so none stays in cache. */
const COLD_POOL_EVENTS = 200_000
const GENERATOR_SEED = 7

interface Rate {
  events: number
  cpuSeconds: number
  wallSeconds: number
}

async function main(): Promise<void> {
  const seconds = numberArgument('--seconds', DEFAULT_SECONDS)
  const upstream = stringArgument('--upstream') ?? UPSTREAM_DIR
  const legacyRules = join(upstream, 'falco-rules', 'legacy', 'falco_rules.yaml')
  const stableRules = join(upstream, 'falco-rules', 'falco_rules.yaml')
  const trace = join(upstream, 'traces', 'sysdig-inspect', '502Error.scap')
  const missing = missingUpstream(legacyRules, stableRules, trace)
  if (missing !== undefined) throw new Error(missing)

  printMachine()
  await benchLegacy(legacyRules, trace, seconds)
  benchStable(stableRules, seconds)
}

function printMachine(): void {
  const [load1] = loadavg()
  console.log(`date: ${new Date().toISOString()}`)
  console.log(`machine: ${availableParallelism()} cores (nproc), ${cpus()[0]?.model ?? 'unknown'}`)
  console.log(`node: ${process.version}, load average at start: ${load1.toFixed(2)}`)
}

async function benchLegacy(rulesFile: string, trace: string, seconds: number): Promise<void> {
  const events = await readCapture(trace)
  const ruleSet = loadRuleSet([rulesFile])
  const enabled = ruleSet.rules.filter((rule) => rule.enabled)
  console.log(`\nlegacy rules (${enabled.length} enabled) on ${trace}: ${events.length} events`)
  const full = measure(ruleSet, events, seconds)
  console.log(`  Peregrine, all enabled rules: ${formatRate(full)}`)

  const compiled = sysdigCompilable(ruleSet, trace)
  const subset = loadRuleSet([rulesFile], {
    disabledRules: enabled.map((rule) => rule.name).filter((name) => !compiled.has(name)),
  })
  const same = measure(subset, events, seconds)
  console.log(`  Peregrine, the ${compiled.size} rules sysdig compiles: ${formatRate(same)}`)

  const conditions = [...compiled.values()]
  const withRules = sysdigCpuSeconds(trace, `evt.dir=< and (${orJoin(conditions)})`)
  const baseline = sysdigCpuSeconds(trace, 'evt.dir=< and evt.num < 0')
  const sysdigRules = events.length / withRules
  const sysdigFilterOnly = events.length / Math.max(withRules - baseline, 1e-6)
  console.log(
    `  sysdig 0.29, same rules joined with or: ${Math.round(sysdigRules)} events/s ` +
      `(${withRules.toFixed(3)} CPU s per run, median of ${SYSDIG_RUNS})`,
  )
  console.log(
    `  sysdig 0.29, filter evaluation only (minus a run with a filter that is always false, ` +
      `${baseline.toFixed(3)} CPU s): ${Math.round(sysdigFilterOnly)} events/s`,
  )
  const peregrineRate = same.events / same.cpuSeconds
  console.log(
    `  ratio Peregrine / sysdig on the same rules: ${(peregrineRate / sysdigRules).toFixed(1)}x ` +
      `whole run, ${(peregrineRate / sysdigFilterOnly).toFixed(1)}x filter evaluation only`,
  )
}

function benchStable(rulesFile: string, seconds: number): void {
  const ruleSet = loadRuleSet([rulesFile])
  const types = new Set(ruleSet.eventTypes() ?? [])
  const generator = new GeneratorSource({ count: COLD_POOL_EVENTS, hostname: 'bench' })
  const random = seededRandom(GENERATOR_SEED)
  const events: SyscallEvent[] = []
  for (let index = 0; events.length < COLD_POOL_EVENTS; index++) {
    const event = generator.makeEvent(index, random)
    if (types.has(event.type)) events.push(event)
  }
  const mix = describeMix(events)
  console.log(`\nstable rules (${ruleSet.rules.length}) on the generator mix: ${mix}`)
  const hot = measure(ruleSet, events.slice(0, HOT_POOL_EVENTS), seconds)
  console.log(`  Peregrine, ${HOT_POOL_EVENTS} events in a loop (hot): ${formatRate(hot)}`)
  const cold = measure(ruleSet, events, seconds)
  console.log(`  Peregrine, ${COLD_POOL_EVENTS} distinct events (cold): ${formatRate(cold)}`)
}

/** Evaluates the events in a loop for at least `seconds` of CPU time, after one warm-up pass. */
function measure(ruleSet: RuleSet, events: SyscallEvent[], seconds: number): Rate {
  for (const event of events) ruleSet.evaluate(event)
  const cpuStart = process.cpuUsage()
  const wallStart = process.hrtime.bigint()
  let evaluated = 0
  while (cpuSeconds(process.cpuUsage(cpuStart)) < seconds) {
    for (const event of events) ruleSet.evaluate(event)
    evaluated += events.length
  }
  return {
    events: evaluated,
    cpuSeconds: cpuSeconds(process.cpuUsage(cpuStart)),
    wallSeconds: Number(process.hrtime.bigint() - wallStart) / 1e9,
  }
}

function formatRate(rate: Rate): string {
  const perCpu = Math.round(rate.events / rate.cpuSeconds)
  const perWall = Math.round(rate.events / rate.wallSeconds)
  return `${perCpu} events/s per CPU second (${perWall} events/s wall clock)`
}

async function readCapture(trace: string): Promise<SyscallEvent[]> {
  const source = new CaptureSource(trace, { hostname: 'bench', logger: silentLogger() })
  const events: SyscallEvent[] = []
  for await (const event of source.events(new AbortController().signal)) events.push(event)
  return events
}

/** Returns the enabled rules whose expanded condition sysdig compiles, with that condition. */
function sysdigCompilable(ruleSet: RuleSet, trace: string): Map<string, string> {
  const compiled = new Map<string, string>()
  for (const rule of ruleSet.rules) {
    if (!rule.enabled) continue
    const condition = ruleSet.ruleCondition(rule.name)?.text ?? ''
    try {
      execFileSync('sysdig', ['-r', trace, '-n', '1', '-p', '%evt.num', condition], {
        stdio: 'ignore',
      })
      compiled.set(rule.name, condition)
    } catch {
      // sysdig 0.29 lacks a field or operator of this rule; it stays out of the comparison.
    }
  }
  return compiled
}

/** Runs sysdig with a filter SYSDIG_RUNS times and returns the median CPU seconds of a run. */
function sysdigCpuSeconds(trace: string, filter: string): number {
  const script = 'sysdig -r "$1" -p %evt.num "$2" > /dev/null && times'
  const samples: number[] = []
  for (let run = 0; run < SYSDIG_RUNS; run++) {
    const output = execFileSync('bash', ['-c', script, 'bench', trace, filter]).toString()
    samples.push(childCpuSeconds(output))
  }
  samples.sort((left, right) => left - right)
  return samples[Math.floor(samples.length / 2)]
}

/** Reads the children's user and system time from the second line of bash's `times`. */
function childCpuSeconds(timesOutput: string): number {
  const line = timesOutput.trim().split('\n')[1] ?? ''
  const parts = [...line.matchAll(/(\d+)m([\d.]+)s/g)]
  return parts.reduce((total, [, minutes, secs]) => total + Number(minutes) * 60 + Number(secs), 0)
}

function orJoin(conditions: string[]): string {
  return conditions.map((condition) => `(${condition})`).join(' or ')
}

function describeMix(events: SyscallEvent[]): string {
  const counts = new Map<string, number>()
  for (const event of events) counts.set(event.type, (counts.get(event.type) ?? 0) + 1)
  return [...counts]
    .sort(([, left], [, right]) => right - left)
    .map(([type, count]) => `${type} ${((100 * count) / events.length).toFixed(0)}%`)
    .join(', ')
}

function cpuSeconds(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1e6
}

function numberArgument(name: string, fallback: number): number {
  const value = stringArgument(name)
  return value === undefined ? fallback : Number(value)
}

function stringArgument(name: string): string | undefined {
  const index = process.argv.indexOf(name)
  return index > 0 ? process.argv[index + 1] : undefined
}

main().catch((error: unknown) => {
  process.stderr.write(`bench-rules failed: ${error instanceof Error ? error.message : error}\n`)
  process.exit(1)
})
