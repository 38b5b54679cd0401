import assert from 'node:assert/strict'
import { join } from 'node:path'
import { before, describe, it } from 'node:test'
import { loadRuleSet } from '../../processors/rules/index.js'
import type { SyscallEvent } from '../../schemas/types.js'
import { missingUpstream, upstreamPath } from '../support/upstream.js'
import {
  MAX_FILTER_CHARS,
  PEREGRINE_EVENTS,
  anyOf,
  groupByLength,
  runSysdigFilter,
  sysdigSkipReason,
} from './sysdig-filter.js'
import { TRACES_DIR, listTraces, readTrace } from './trace-events.js'

/**
 * Differential test of every rule of the four upstream rules files against Debian's sysdig 0.29.3,
 * whose filter language is Falco's condition language of March 2022. Each rule's condition, with
 * macros and lists expanded, runs as a sysdig filter on every readable trace; the exit events it
 * selects must be the events Peregrine's compiled condition selects on the same trace read
 * through CaptureSource. Rules are compared in groups joined with `or`, and a group is split only
 * when sysdig or Peregrine selects something in it, so a trace costs a few sysdig runs per rule
 * that matches there instead of one run per rule.
 */
const RULES_FILES = [
  'falco-rules/falco_rules.yaml',
  'falco-rules/falco-incubating_rules.yaml',
  'falco-rules/falco-sandbox_rules.yaml',
  'falco-rules/legacy/falco_rules.yaml',
]
/** A trace without events, on which a filter run only compiles the filter. */
const COMPILE_TRACE = 'falco/empty.scap'

interface ComparedRule {
  file: string
  name: string
  condition: string
  matches: (event: SyscallEvent) => boolean
}

/**
 * Differences that remain after investigation, by rule and trace, with the reason. Peregrine
 * follows Falco 0.42 and later here, where sysdig 0.29 does not.
 */
const KNOWN_DIFFERENCES: { file: string; rule: string; trace: string; reason: string }[] = []

const skipReason =
  missingUpstream(...RULES_FILES.map((file) => upstreamPath(file)), TRACES_DIR) ??
  sysdigSkipReason()
if (skipReason !== undefined) console.log(`# skipping the sysdig differential test: ${skipReason}`)

describe('upstream rules compared with sysdig', { skip: skipReason }, () => {
  const compared: ComparedRule[] = []
  const notCompiled: { rule: ComparedRule; reason: string }[] = []

  before(async () => {
    const rules = RULES_FILES.flatMap((file) => loadRules(file))
    const failures = await findUncompilable(rules)
    for (const rule of rules) {
      const reason = failures.get(rule)
      if (reason === undefined) compared.push(rule)
      else notCompiled.push({ rule, reason })
    }
    console.log(
      `# ${rules.length} rules: ${compared.length} compiled by sysdig, ${notCompiled.length} not`,
    )
    for (const { rule, reason } of notCompiled) {
      console.log(`#   not compiled: ${rule.file}: ${rule.name}: ${reason}`)
    }
  })

  for (const trace of skipReason === undefined ? listTraces() : []) {
    it(`selects the events sysdig selects in ${trace}`, async (context) => {
      const read = await readTrace(trace)
      if ('error' in read) {
        context.skip(`trace not readable: ${read.error}`)
        return
      }
      const matching = compared.filter((rule) => read.events.some(rule.matches)).length
      const differences = await compareGroup(join(TRACES_DIR, trace), read.events, compared)
      const unexplained = differences.filter(
        (difference) =>
          !KNOWN_DIFFERENCES.some(
            (known) =>
              known.trace === trace &&
              known.rule === difference.rule.name &&
              known.file === difference.rule.file,
          ),
      )
      console.log(
        `# ${trace}: ${compared.length} rules compared on ${read.events.length} events, ` +
          `${matching} of them select events here`,
      )
      for (const { rule, sysdigOnly, peregrineOnly } of differences) {
        console.log(
          `#   ${rule.file}: ${rule.name}: sysdig only [${sysdigOnly.join(' ')}], ` +
            `Peregrine only [${peregrineOnly.join(' ')}]`,
        )
      }

      assert.deepEqual(
        unexplained.map(({ rule, sysdigOnly, peregrineOnly }) => ({
          rule: `${rule.file}: ${rule.name}`,
          sysdigOnly,
          peregrineOnly,
        })),
        [],
      )
    })
  }
})

interface Difference {
  rule: ComparedRule
  sysdigOnly: number[]
  peregrineOnly: number[]
}

function loadRules(file: string): ComparedRule[] {
  const ruleSet = loadRuleSet([upstreamPath(file)])
  return ruleSet.rules.map((info) => {
    const condition = ruleSet.ruleCondition(info.name)
    assert.ok(condition !== undefined, info.name)
    return { file, name: info.name, condition: condition.text, matches: condition.matches }
  })
}

/**
 * Returns, for each rule whose condition sysdig rejects, sysdig's error. Conditions are tried in
 * groups on a trace without events; a group that fails is split until the failing rules are alone.
 */
async function findUncompilable(rules: ComparedRule[]): Promise<Map<ComparedRule, string>> {
  const failures = new Map<ComparedRule, string>()
  const trace = join(TRACES_DIR, COMPILE_TRACE)
  const tryGroup = async (group: ComparedRule[]): Promise<void> => {
    const result = await runSysdigFilter(trace, anyOf(group.map((rule) => rule.condition)))
    if (!('error' in result)) return
    if (group.length === 1) {
      failures.set(group[0], result.error)
      return
    }
    const middle = Math.ceil(group.length / 2)
    await tryGroup(group.slice(0, middle))
    await tryGroup(group.slice(middle))
  }
  for (const rule of rules) {
    if (rule.condition.length > MAX_FILTER_CHARS) {
      failures.set(rule, `condition longer than ${MAX_FILTER_CHARS} characters`)
    }
  }
  const groups = groupByLength(
    rules.filter((rule) => !failures.has(rule)),
    (rule) => rule.condition,
    MAX_FILTER_CHARS,
  )
  for (const group of groups) await tryGroup(group)
  return failures
}

/**
 * Compares a group of rules on one trace: sysdig's events for the `or` of their conditions
 * against the union of Peregrine's events. Equal empty selections settle the whole group;
 * otherwise the group is split until single rules are compared.
 */
async function compareGroup(
  trace: string,
  events: SyscallEvent[],
  rules: ComparedRule[],
): Promise<Difference[]> {
  const differences: Difference[] = []
  const visit = async (group: ComparedRule[]): Promise<void> => {
    const peregrine = events
      .filter((event) => group.some((rule) => rule.matches(event)))
      .map((event) => Number(event.num))
    if (group.length > 1 && peregrine.length === 0) {
      const result = await runSysdig(trace, group)
      if (result.length === 0) return
    }
    if (group.length === 1) {
      const sysdig = await runSysdig(trace, group)
      const sysdigOnly = sysdig.filter((num) => !peregrine.includes(num))
      const peregrineOnly = peregrine.filter((num) => !sysdig.includes(num))
      if (sysdigOnly.length > 0 || peregrineOnly.length > 0) {
        differences.push({ rule: group[0], sysdigOnly, peregrineOnly })
      }
      return
    }
    const middle = Math.ceil(group.length / 2)
    await visit(group.slice(0, middle))
    await visit(group.slice(middle))
  }
  for (const group of groupByLength(rules, (rule) => rule.condition, MAX_FILTER_CHARS)) {
    await visit(group)
  }
  return differences
}

async function runSysdig(trace: string, group: ComparedRule[]): Promise<number[]> {
  const filter = `${PEREGRINE_EVENTS} and (${anyOf(group.map((rule) => rule.condition))})`
  const result = await runSysdigFilter(trace, filter)
  if ('error' in result) throw new Error(`sysdig failed on ${trace}: ${result.error}`)
  return result.eventNumbers
}
