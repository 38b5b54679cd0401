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
  runSysdigEvents,
  runSysdigFilter,
  sysdigSkipReason,
} from './sysdig-filter.js'
import type { PrintedEvent } from './sysdig-filter.js'
import { TRACES_DIR, listTraces, readTrace } from './trace-events.js'

/**
 * Differential test of every rule and macro of the four upstream rules files against Debian's
 * sysdig 0.29.3, whose filter language is Falco's condition language of March 2022. Each
 * condition, with macros and lists expanded, runs as a sysdig filter on every readable trace.
 * The events it selects must be the events Peregrine's compiled condition selects on the same
 * trace read through CaptureSource. Conditions that Peregrine finds nothing for are compared in
 * groups joined with `or`, so a trace costs about one sysdig run per condition that selects
 * events there instead of one run per condition.
 */
const RULES_FILES = [
  'falco-rules/falco_rules.yaml',
  'falco-rules/falco-incubating_rules.yaml',
  'falco-rules/falco-sandbox_rules.yaml',
  'falco-rules/legacy/falco_rules.yaml',
]
/**
 * Event types that CaptureSource skips as unknown: syscalls that sysdig 0.29 cannot name (it prints
 * `<unknown>`), so no rule can name them either.
 */
const UNNAMED_EVENT_TYPE = /^(<unknown>|NA\d*)$/

/** A trace without events, on which a filter run only compiles the filter. */
const COMPILE_TRACE = 'falco/empty.scap'

interface ComparedRule {
  file: string
  /** `rule NAME` or `macro NAME`. */
  name: string
  condition: string
  matches: (event: SyscallEvent) => boolean
}

/**
 * Differences that remain after investigation: the item (rule or macro, in any of the files), the
 * side that selects the extra events, and why Peregrine keeps its result.
 */
const KNOWN_DIFFERENCES: { item: string; extraOn: 'sysdig' | 'peregrine'; reason: string }[] = [
  {
    item: 'macro root_dir',
    extraOn: 'sysdig',
    reason:
      'fd.directory of a descriptor of unknown type (typechar o, no name): sysdig 0.29 gives "/", ' +
      'while current libsinsp (sinsp_filtercheck_fd.cpp) gives no value for descriptors that ' +
      'are not files or directories, as Peregrine does',
  },
  {
    item: 'macro sensitive_mount',
    extraOn: 'sysdig',
    reason:
      'container.mount.dest[...] != "N/A" on the host or in a container without such a mount: ' +
      'sysdig 0.29 has no value there and still takes != as true; Peregrine gives "N/A" in a ' +
      'container, as the container plugin does, and no value on the host, so != is false',
  },
  {
    item: 'macro container_entrypoint',
    extraOn: 'peregrine',
    reason:
      'proc.pname of a thread whose parent process the capture never shows: sysdig 0.29 names ' +
      'the thread leader, with proc.ppid -1 and no proc.aname[1]; Peregrine reads the parent from ' +
      'the ancestors, so proc.pname is missing',
  },
  {
    item: 'macro network_local_subnet',
    extraOn: 'sysdig',
    reason:
      'fd.ip = 0.0.0.0 on an IPv6 socket without addresses: sysdig 0.29 selects it, while ' +
      'Peregrine compares addresses of one family only and the socket has no IPv4 address',
  },
]

const skipReason =
  missingUpstream(...RULES_FILES.map((file) => upstreamPath(file)), TRACES_DIR) ??
  sysdigSkipReason()
if (skipReason !== undefined) console.log(`# skipping the sysdig differential test: ${skipReason}`)

describe('upstream rules compared with sysdig', { skip: skipReason }, () => {
  const compared: ComparedRule[] = []
  const notCompiled: { rule: ComparedRule; reason: string }[] = []

  before(async () => {
    const rules = distinctConditions(RULES_FILES.flatMap((file) => loadRules(file)))
    const failures = await findUncompilable(rules)
    for (const rule of rules) {
      const reason = failures.get(rule)
      if (reason === undefined) compared.push(rule)
      else notCompiled.push({ rule, reason })
    }
    const ruleCount = (items: ComparedRule[]) =>
      items.filter((item) => item.name.startsWith('rule ')).length
    console.log(
      `# ${ruleCount(rules)} rules and ${rules.length - ruleCount(rules)} macros with distinct ` +
        `conditions: ${ruleCount(compared)} rules and ${compared.length - ruleCount(compared)} ` +
        `macros compiled by sysdig, ${notCompiled.length} not`,
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
      const unread = new Map<number, string>()
      const path = join(TRACES_DIR, trace)
      const differences = await compareRules(path, read.events, compared, unread)
      const unexplained = differences.filter((difference) => explain(difference) === undefined)
      console.log(
        `# ${trace}: ${compared.length} rules compared on ${read.events.length} events, ` +
          `${matching} of them select events here`,
      )
      for (const difference of differences) {
        const { rule, sysdigOnly, peregrineOnly } = difference
        const reason = explain(difference) ?? 'not explained'
        console.log(
          `#   ${rule.file}: ${rule.name}: sysdig only [${sysdigOnly.join(' ')}], ` +
            `Peregrine only [${peregrineOnly.join(' ')}]: ${reason}`,
        )
      }

      const unreadTypes = [...new Set(unread.values())]
      if (unread.size > 0) {
        console.log(
          `#   ${unread.size} events sysdig selects are not read: ${unreadTypes.join(', ')}`,
        )
      }

      assert.deepEqual(
        unreadTypes.filter((type) => !UNNAMED_EVENT_TYPE.test(type)),
        [],
        'sysdig selects events of types Peregrine should read',
      )
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

/** Returns the reason of a known difference, or undefined when the difference is not known. */
function explain(difference: Difference): string | undefined {
  const known = KNOWN_DIFFERENCES.find((entry) => entry.item === difference.rule.name)
  if (known === undefined) return undefined
  const other = known.extraOn === 'sysdig' ? difference.peregrineOnly : difference.sysdigOnly
  return other.length === 0 ? known.reason : undefined
}

/**
 * Returns the rules of a file and its macros, each with its expanded condition. Macros select
 * many more events of the captures than rules do, so they exercise the fields further.
 */
function loadRules(file: string): ComparedRule[] {
  const ruleSet = loadRuleSet([upstreamPath(file)])
  const rules = ruleSet.rules.map((info) => {
    const condition = ruleSet.ruleCondition(info.name)
    assert.ok(condition !== undefined, info.name)
    return {
      file,
      name: `rule ${info.name}`,
      condition: condition.text,
      matches: condition.matches,
    }
  })
  const macros = ruleSet.macroNames().flatMap((name) => {
    const condition = ruleSet.macroCondition(name)
    if (condition === undefined) return []
    return [{ file, name: `macro ${name}`, ...condition, condition: condition.text }]
  })
  return [...rules, ...macros]
}

/** Keeps the first item of each condition text: the four files share many macros. */
function distinctConditions(items: ComparedRule[]): ComparedRule[] {
  const seen = new Set<string>()
  return items.filter((item) => {
    if (seen.has(item.condition)) return false
    seen.add(item.condition)
    return true
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
 * Compares rules on one trace. Rules that Peregrine finds nothing for are tried in groups joined
 * with `or`: an empty sysdig result settles a whole group, and a group is split only when sysdig
 * selects something in it. Rules Peregrine selects events for run alone. sysdig events that
 * Peregrine does not read at all (syscalls sysdig 0.29 cannot name) are set aside in `unread`.
 */
async function compareRules(
  trace: string,
  events: SyscallEvent[],
  rules: ComparedRule[],
  unread: Map<number, string>,
): Promise<Difference[]> {
  const readNumbers = new Set(events.map((event) => Number(event.num)))
  const selections = new Map(
    rules.map((rule) => [rule, events.filter(rule.matches).map((event) => Number(event.num))]),
  )
  const differences: Difference[] = []
  const sysdigSelection = async (group: ComparedRule[]): Promise<number[]> => {
    const selected: number[] = []
    for (const event of await runSysdig(trace, group)) {
      if (readNumbers.has(event.num)) selected.push(event.num)
      else unread.set(event.num, event.type)
    }
    return selected
  }
  const compareAlone = async (rule: ComparedRule): Promise<void> => {
    const peregrine = selections.get(rule) ?? []
    const sysdig = await sysdigSelection([rule])
    const sysdigOnly = sysdig.filter((num) => !peregrine.includes(num))
    const peregrineOnly = peregrine.filter((num) => !sysdig.includes(num))
    if (sysdigOnly.length > 0 || peregrineOnly.length > 0) {
      differences.push({ rule, sysdigOnly, peregrineOnly })
    }
  }
  const visitEmpty = async (group: ComparedRule[]): Promise<void> => {
    if (group.length === 1) return compareAlone(group[0])
    if ((await sysdigSelection(group)).length === 0) return
    const middle = Math.ceil(group.length / 2)
    await visitEmpty(group.slice(0, middle))
    await visitEmpty(group.slice(middle))
  }

  const selecting = rules.filter((rule) => (selections.get(rule) ?? []).length > 0)
  const empty = rules.filter((rule) => (selections.get(rule) ?? []).length === 0)
  await inParallel(selecting.map((rule) => () => compareAlone(rule)))
  const groups = groupByLength(empty, (rule) => rule.condition, MAX_FILTER_CHARS)
  await inParallel(groups.map((group) => () => visitEmpty(group)))
  return differences
}

/** Runs tasks two at a time: sysdig runs are single-threaded and the CI machines have 2 cores. */
async function inParallel(tasks: (() => Promise<void>)[]): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < tasks.length) await tasks[next++]()
  }
  await Promise.all([worker(), worker()])
}

async function runSysdig(trace: string, group: ComparedRule[]): Promise<PrintedEvent[]> {
  const filter = `${PEREGRINE_EVENTS} and (${anyOf(group.map((rule) => rule.condition))})`
  const result = await runSysdigEvents(trace, filter)
  if ('error' in result) throw new Error(`sysdig failed on ${trace}: ${result.error}`)
  return result.events
}
