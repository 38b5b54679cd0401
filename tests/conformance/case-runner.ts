import { basename } from 'node:path'
import { RuleError } from '../../core/errors.js'
import { buildAlert } from '../../processors/alert-builder.js'
import { loadRuleSet, parsePriority } from '../../processors/rules/index.js'
import type { LoadProblem, LoadRuleSetOptions, RuleSet } from '../../processors/rules/index.js'
import { runRulesOnEvents } from '../../processors/rules/rule-test-run.js'
import { toFalcoJsonLine } from '../../sinks/falco-json.js'
import { expectedCounts, listOf } from './falco-cases.js'
import type { ExpectedProblem, FalcoCase } from './falco-cases.js'
import { adjustedCounts } from './sysdig-counts.js'
import { readTrace } from './trace-events.js'

/** Result of one case: what Falco's suite expected, what Peregrine gave, and the verdict. */
export interface CaseOutcome {
  status: 'pass' | 'fail' | 'skip'
  expected: string
  got: string
  /** Why a case is skipped, or why an expectation was adjusted or left unchecked. */
  notes: string[]
}

/**
 * Warning codes Falco renamed after the suite was written: falco_tests.yaml (January 2023) expects
 * LOAD_UNKNOWN_FIELD where Falco's falco_load_result.cpp now lists LOAD_UNKNOWN_FILTER.
 */
const RENAMED_CODES: Record<string, string> = { LOAD_UNKNOWN_FIELD: 'LOAD_UNKNOWN_FILTER' }

/** Falco's item types for problems of a whole file or array element, where Peregrine names none. */
const FILE_LEVEL_ITEM_TYPES = new Set(['rules content', 'rules content item'])

/** Case keys that select Falco behaviour Peregrine has no counterpart for, with the reason. */
const UNSUPPORTED_OPTIONS: Record<string, string> = {
  psp_file: "Kubernetes PSP input, which needs Falco's PSP-to-rules converter",
  conf_file: 'Falco configuration',
  time_iso_8601: 'time_iso_8601: Peregrine prints evt.time as Falco does by default',
  json_include_output_property: 'json_include_output_property: Peregrine always writes output',
  json_include_tags_property: 'json_include_tags_property: Peregrine always writes tags',
}

/** Runs one case of Falco's regression suite against Peregrine's loader and rule engine. */
export async function runCase(testCase: FalcoCase): Promise<CaseOutcome> {
  const { spec } = testCase
  for (const [key, reason] of Object.entries(UNSUPPORTED_OPTIONS)) {
    if (spec[key] !== undefined) {
      const detail = key === 'conf_file' ? describeConfiguration(String(spec[key])) : reason
      return skip(`option without Peregrine equivalent: ${detail}`)
    }
  }
  if (testCase.validateRulesFiles.length > 0) return runValidation(testCase)
  if (spec.run_tags !== undefined && (spec.disable_tags ?? spec.disabled_rules) !== undefined) {
    return runSelectionConflict(testCase)
  }
  if (testCase.tracePath === undefined) {
    return skip(`trace not available: ${testCase.traceName ?? 'none named'}`)
  }
  return await runDetection(testCase)
}

/** Says what a Falco configuration file of the suite sets, from its name. */
function describeConfiguration(file: string): string {
  if (file.includes('drops_')) {
    return `${file}: Falco's actions on kernel event drops (syscall_event_drops)`
  }
  return `${file}: a Falco output channel (stdout, file, program or gRPC) compared with files of expected output`
}

function skip(reason: string): CaseOutcome {
  return { status: 'skip', expected: '', got: '', notes: [reason] }
}

/** Validation cases: Falco's `-V` loads the files in order and reports errors and warnings. */
function runValidation(testCase: FalcoCase): CaseOutcome {
  const { spec } = testCase
  let errors: LoadProblem[] = []
  let warnings: LoadProblem[] = []
  let ruleSet: RuleSet | undefined
  try {
    ruleSet = loadRuleSet(testCase.validateRulesFiles)
    warnings = [...ruleSet.warnings]
  } catch (error) {
    if (!(error instanceof RuleError)) throw error
    errors = error.context.errors as LoadProblem[]
    warnings = error.context.warnings as LoadProblem[]
  }

  const failures: string[] = []
  const expectedErrors = (spec.validate_errors ?? []) as ExpectedProblem[]
  const expectedWarnings = (spec.validate_warnings ?? []) as ExpectedProblem[]
  const exitStatus = spec.exit_status ?? (expectedErrors.length > 0 ? 1 : 0)
  if ((errors.length > 0 ? 1 : 0) !== exitStatus) failures.push(`exit status ${exitStatus}`)
  for (const expected of expectedErrors) {
    if (!errors.some((problem) => problemMatches(problem, expected))) {
      failures.push(`missing error ${describeExpected(expected)}`)
    }
  }
  for (const expected of expectedWarnings) {
    if (!warnings.some((problem) => problemMatches(problem, expected))) {
      failures.push(`missing warning ${describeExpected(expected)}`)
    }
  }
  for (const file of listOf(spec, 'validate_ok')) {
    if (errors.some((problem) => basename(problem.file) === file)) {
      failures.push(`errors in ${file}, expected none`)
    }
  }

  const notes: string[] = []
  const eventTypes = checkEventTypes(spec, ruleSet, failures, notes)

  const expected = [
    `exit ${String(exitStatus)}`,
    ...eventTypes.expected,
    ...expectedErrors.map((problem) => `error ${describeExpected(problem)}`),
    ...expectedWarnings.map((problem) => `warning ${describeExpected(problem)}`),
  ].join('; ')
  const got = [
    `exit ${errors.length > 0 ? 1 : 0}`,
    ...eventTypes.got,
    ...errors.map((problem) => `error ${describeProblem(problem)}`),
    ...warnings.map((problem) => `warning ${describeProblem(problem)}`),
  ].join('; ')
  return {
    status: failures.length === 0 ? 'pass' : 'fail',
    expected,
    got,
    notes: [...failures, ...notes],
  }
}

/**
 * Checks `rules_events`: the event types each rule is indexed by, `all` for a rule that runs on
 * every type. A comment in the case file states that Falco's harness had stopped checking them.
 * Some `all` entries predate Falco's current index, because the same case expects no
 * LOAD_NO_EVTTYPE warning for those rules, which a rule on every type would get. Such an entry
 * accepts the narrower types.
 */
function checkEventTypes(
  spec: Record<string, unknown>,
  ruleSet: RuleSet | undefined,
  failures: string[],
  notes: string[],
): { expected: string[]; got: string[] } {
  const warned = new Set(
    ((spec.validate_warnings ?? []) as ExpectedProblem[])
      .filter((warning) => warning.code === 'LOAD_NO_EVTTYPE')
      .map((warning) => warning.item_name),
  )
  const entries = ((spec.rules_events ?? []) as Record<string, string[]>[]).flatMap((entry) =>
    Object.entries(entry),
  )
  const expected: string[] = []
  const got: string[] = []
  for (const [rule, types] of entries) {
    const info = ruleSet?.rules.find((candidate) => candidate.name === rule)
    const want = [...types].sort().join(',')
    const have = info === undefined ? 'missing' : (info.eventTypes?.join(',') ?? 'all')
    got.push(`${rule} on ${have}`)
    if (want === 'all' && have !== 'all' && info !== undefined && !warned.has(rule)) {
      expected.push(`${rule} on ${have}`)
      notes.push(`rules_events ${rule}: all → ${have} (no LOAD_NO_EVTTYPE expected for it)`)
      continue
    }
    expected.push(`${rule} on ${want}`)
    if (have !== want) failures.push(`${rule}: event types ${have}, expected ${want}`)
  }
  return { expected, got }
}

/** Falco refuses to combine `-D`/`-T` with `-t`; Peregrine's loader rejects the same options. */
function runSelectionConflict(testCase: FalcoCase): CaseOutcome {
  const expected = `exit ${String(testCase.spec.exit_status)}: -D/-T with -t rejected`
  try {
    loadRuleSet(testCase.rulesFiles, selectionOptions(testCase))
  } catch (error) {
    if (!(error instanceof RuleError)) throw error
    return { status: 'pass', expected, got: `exit 1: ${error.message}`, notes: [] }
  }
  return { status: 'fail', expected, got: 'exit 0: rules loaded', notes: [] }
}

function selectionOptions(testCase: FalcoCase): LoadRuleSetOptions {
  const { spec } = testCase
  const options: LoadRuleSetOptions = {}
  if (spec.priority !== undefined) options.minPriority = String(spec.priority)
  if (spec.disabled_rules !== undefined) options.disabledRules = listOf(spec, 'disabled_rules')
  if (spec.disable_tags !== undefined) options.disabledTags = listOf(spec, 'disable_tags')
  if (spec.run_tags !== undefined) options.enabledTags = listOf(spec, 'run_tags')
  return options
}

/** Detection cases: the rules run on the trace's events as Peregrine reads them. */
async function runDetection(testCase: FalcoCase): Promise<CaseOutcome> {
  const { spec } = testCase
  const read = await readTrace(testCase.tracePath ?? '')
  if ('error' in read) return skip(`trace not readable: ${read.error}`)
  const ruleSet = loadRuleSet(testCase.rulesFiles, selectionOptions(testCase))
  const lines: string[] = []
  const isJson = spec.json_output === true
  const summary = await runRulesOnEvents(ruleSet, read.events, (match, event, index) => {
    const alert = buildAlert(match, event, { topic: 'trace', partition: 0, offset: String(index) })
    lines.push(isJson ? toFalcoJsonLine(alert) : alert.output)
  })

  const failures: string[] = []
  const notes: string[] = []
  const expected: string[] = []
  const got: string[] = [`${summary.alerts} alerts`]
  if (spec.detect === true) {
    const levels = listOf(spec, 'detect_level').map((level) => parsePriority(level) ?? level)
    expected.push(`alerts at ${levels.join(', ')}`)
    if (summary.alerts === 0) failures.push('no alert')
    for (const level of levels) {
      const count = summary.alertsByPriority.get(level) ?? 0
      got.push(`${level} ${count}`)
      if (count === 0) failures.push(`no ${level} alert`)
    }
  } else if (spec.detect === false) {
    expected.push('no alert')
    if (summary.alerts > 0) failures.push(`${summary.alerts} alerts`)
  }

  const report = { expected, got, failures, notes }
  if (spec.rules_file === undefined) checkDefaultRulesWarnings(ruleSet, report)
  await checkCounts(testCase, ruleSet, summary.alertsByRule, report)
  checkStdout(spec, lines, report)
  addUncheckedNotes(spec, notes)
  return {
    status: failures.length === 0 ? 'pass' : 'fail',
    expected: expected.join('; '),
    got: got.join('; '),
    notes: [...failures, ...notes],
  }
}

interface Report {
  expected: string[]
  got: string[]
  failures: string[]
  notes: string[]
}

/**
 * Checks detect_counts. Falco counted enter and exit events and Peregrine reads exit events only,
 * so each expected count is derived again with sysdig, in first-match rule order. Its count over
 * all events must reproduce Falco's number, and its count over the events Peregrine reads is the
 * adjusted expectation.
 */
async function checkCounts(
  testCase: FalcoCase,
  ruleSet: RuleSet,
  alertsByRule: Map<string, number>,
  report: Report,
): Promise<void> {
  const counts = expectedCounts(testCase.spec)
  if (counts.length === 0) return
  const derived = await adjustedCounts(testCase.tracePath ?? '', ruleSet)
  for (const [rule, falcoCount] of counts) {
    // A rule that the case's options disable or drop runs in neither engine: its count is 0.
    const count = derived.get(rule) ?? { allEvents: 0, exitEvents: 0 }
    const actual = alertsByRule.get(rule) ?? 0
    report.got.push(`${rule}=${actual}`)
    if (count.allEvents !== falcoCount) {
      report.expected.push(`${rule}=${falcoCount}`)
      report.failures.push(
        `${rule}: sysdig counts ${count.allEvents} over enter and exit events, not Falco's ` +
          `${falcoCount}, so the exit-only count cannot be derived`,
      )
      continue
    }
    if (count.exitEvents === falcoCount) {
      report.expected.push(`${rule}=${falcoCount}`)
    } else {
      report.expected.push(`${rule}=${count.exitEvents}`)
      report.notes.push(
        `detect_counts ${rule}: ${falcoCount} → ${count.exitEvents} (Falco counted enter and exit)`,
      )
    }
    if (actual !== count.exitEvents) report.failures.push(`${rule}: ${actual} alerts`)
  }
}

/**
 * Falco's suite expects its own rules file to load without rule warnings. Falco 0.42 and later
 * warn about evt.dir and %container.info, which that file uses, and Peregrine does the same, so
 * only those deprecation warnings are allowed.
 */
function checkDefaultRulesWarnings(ruleSet: RuleSet, report: Report): void {
  const others = ruleSet.warnings.filter(
    (warning) =>
      warning.code !== 'LOAD_DEPRECATED_ITEM' ||
      !/evt\.dir|evt\.latency|container\.info/.test(warning.message),
  )
  report.expected.push('no warnings but the deprecations of Falco 0.42 (evt.dir, %container.info)')
  report.got.push(`${ruleSet.warnings.length} deprecation warnings, ${others.length} others`)
  for (const warning of others) report.failures.push(`warning ${describeProblem(warning)}`)
}

/** Checks stdout_contains, a Python regular expression searched in Falco's standard output. */
function checkStdout(spec: Record<string, unknown>, lines: string[], report: Report): void {
  const stdout = lines.join('\n')
  for (const pattern of listOf(spec, 'stdout_contains')) {
    report.expected.push(`stdout matches /${pattern}/`)
    const matches = new RegExp(pattern, 'm').test(stdout)
    report.got.push(matches ? 'stdout matches' : `stdout: ${lines[0] ?? '(empty)'}`)
    if (!matches) report.failures.push(`stdout does not match /${pattern}/`)
  }
}

/** Notes the keys of a case that do not apply to Peregrine, with the reason. */
function addUncheckedNotes(spec: Record<string, unknown>, notes: string[]): void {
  if (spec.all_events === true) {
    notes.push('all_events (-A): Peregrine evaluates every event type it reads')
  }
  if (spec.rules_warning !== undefined) {
    notes.push(
      'rules_warning not checked: Falco warned that these rules use event types it drops ' +
        'without -A; Peregrine drops no event type',
    )
  }
}

function problemMatches(problem: LoadProblem, expected: ExpectedProblem): boolean {
  const code = RENAMED_CODES[expected.code] ?? expected.code
  if (problem.code !== code) return false
  if (FILE_LEVEL_ITEM_TYPES.has(expected.item_type)) {
    if (problem.item !== undefined && problem.item !== '') return false
  } else {
    if ((problem.itemType ?? '') !== expected.item_type) return false
    if ((problem.item ?? '') !== expected.item_name) return false
  }
  // A YAML syntax error is worded by the YAML library (yaml-cpp in Falco), with its own columns.
  if (code === 'LOAD_ERR_YAML_PARSE') return true
  const message = expected.message ?? expected.message_contains ?? ''
  return keyTokens(message).every((token) =>
    problem.message.toLowerCase().includes(token.toLowerCase()),
  )
}

/**
 * Returns the parts of an expected message that name what it is about, which Peregrine's own
 * wording must contain too: quoted text, dotted field names, numbers, and a final identifier
 * such as `list_a` in "unknown event type list_a". Falco's wording around them is not compared.
 */
export function keyTokens(message: string): string[] {
  const tokens: string[] = []
  for (const match of message.matchAll(/'([^']*)'|"([^"]*)"|\b[\w-]+\.[\w.-]+\b|\b\d+\b/g)) {
    tokens.push(match[1] ?? match[2] ?? match[0])
  }
  const last = /([A-Za-z0-9-]+(?:[._][A-Za-z0-9-]+)+)[.\s]*$/.exec(message)
  if (last !== null) tokens.push(last[1])
  return tokens.filter((token) => token !== '')
}

function describeExpected(problem: ExpectedProblem): string {
  const code = RENAMED_CODES[problem.code] ?? problem.code
  const message = problem.message ?? problem.message_contains ?? ''
  return `${code} ${problem.item_type} '${problem.item_name}': ${message}`
}

function describeProblem(problem: LoadProblem): string {
  return `${problem.code} ${problem.itemType ?? 'rules content'} '${problem.item ?? ''}': ${problem.message}`
}
