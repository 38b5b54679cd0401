import type { Command } from 'commander'
import { RuleError } from '../../core/errors.js'
import { createLogger } from '../../core/logger.js'
import type { LogLevel } from '../../core/logger.js'
import { buildAlert } from '../../processors/alert-builder.js'
import { loadRuleSet } from '../../processors/rules/index.js'
import type { LoadProblem, LoadRuleSetOptions, RuleSet } from '../../processors/rules/index.js'
import { formatProblem } from '../../processors/rules/load-problem.js'
import { runRulesOnEvents } from '../../processors/rules/rule-test-run.js'
import type { RuleTestSummary } from '../../processors/rules/rule-test-run.js'
import { createEventSource } from '../../producer/source-factory.js'
import { toFalcoJsonLine } from '../../sinks/falco-json.js'

interface SelectionOptions {
  minPriority?: string
  disable?: string[]
  disableTag?: string[]
  tag?: string[]
}

interface ListOptions extends SelectionOptions {
  json?: boolean
}

interface TestOptions extends SelectionOptions {
  events: string
  json?: boolean
  all?: boolean
  logLevel: string
}

/**
 * Adds `peregrine rules`: validate, list and test Falco rules files offline, with no Kafka.
 * Load errors make every subcommand exit with 1.
 */
export function registerRulesCommand(program: Command): void {
  const rules = program
    .command('rules')
    .description('check, list and try out Falco rules files without Kafka')

  rules
    .command('validate')
    .description('load rules files and print every error and warning; exit 1 on errors')
    .argument('<files...>', 'rules files or folders, in load order')
    .action((files: string[]) => {
      process.exitCode = validate(files)
    })

  addSelectionOptions(
    rules
      .command('list')
      .description('print each rule: name, priority, source, enabled, tags and event types')
      .argument('<files...>', 'rules files or folders, in load order')
      .option('--json', 'print one JSON object per rule'),
  ).action((files: string[], options: ListOptions) => {
    const ruleSet = loadOrReport(files, selectionOf(options))
    if (ruleSet === undefined) return
    for (const line of listRules(ruleSet, options.json === true)) process.stdout.write(`${line}\n`)
  })

  addSelectionOptions(
    rules
      .command('test')
      .description('run rules on events and print the alerts they raise and the count per rule')
      .argument('<files...>', 'rules files or folders, in load order')
      .requiredOption(
        '--events <source>',
        'events to read: capture:FILE.scap, events:FILE.jsonl or generator:COUNT',
      )
      .option('--json', 'print alerts as Falco JSON lines, and the totals on stderr')
      .option('--all', 'report every matching rule per event, not only the first (rule_matching)')
      .option('--log-level <level>', 'log level of the event source, on stderr', 'warn'),
  ).action(async (files: string[], options: TestOptions) => {
    const ruleSet = loadOrReport(files, {
      ...selectionOf(options),
      ruleMatching: options.all === true ? 'all' : 'first',
    })
    if (ruleSet === undefined) return
    const summary = await testRules(ruleSet, options)
    // With --json, stdout carries only alerts, so the totals go to stderr.
    const output = options.json === true ? process.stderr : process.stdout
    for (const line of summaryLines(summary)) output.write(`${line}\n`)
  })
}

function addSelectionOptions(command: Command): Command {
  return command
    .option(
      '--min-priority <priority>',
      'drop rules below this priority: emergency, alert, critical, error, warning, notice, informational, debug',
    )
    .option('--disable <text...>', 'disable the rules whose name contains the text (Falco -D)')
    .option('--disable-tag <tag...>', 'disable the rules with this tag (Falco -T)')
    .option('--tag <tag...>', 'run only the rules with one of these tags (Falco -t)')
}

function selectionOf(options: SelectionOptions): LoadRuleSetOptions {
  return {
    minPriority: options.minPriority,
    disabledRules: options.disable,
    disabledTags: options.disableTag,
    enabledTags: options.tag,
  }
}

/** Prints every problem of a load and returns the exit code: 1 when there are errors. */
function validate(files: string[]): number {
  let errors: LoadProblem[] = []
  let warnings: LoadProblem[] = []
  let ruleCount = 0
  try {
    const ruleSet = loadRuleSet(files)
    warnings = [...ruleSet.warnings]
    ruleCount = ruleSet.rules.length
  } catch (error) {
    if (!(error instanceof RuleError)) throw error
    errors = error.context.errors as LoadProblem[]
    warnings = error.context.warnings as LoadProblem[]
  }
  for (const problem of errors) process.stdout.write(`error: ${formatProblem(problem)}\n`)
  for (const problem of warnings) process.stdout.write(`warning: ${formatProblem(problem)}\n`)
  const verdict = errors.length > 0 ? 'invalid' : `valid, ${ruleCount} rules`
  process.stdout.write(
    `${files.join(' ')}: ${verdict} (${errors.length} errors, ${warnings.length} warnings)\n`,
  )
  return errors.length > 0 ? 1 : 0
}

/** Loads rules; on load errors prints them like `rules validate`, sets exit code 1, returns undefined. */
function loadOrReport(files: string[], options: LoadRuleSetOptions): RuleSet | undefined {
  try {
    return loadRuleSet(files, options)
  } catch (error) {
    if (!(error instanceof RuleError)) throw error
    for (const problem of error.context.errors as LoadProblem[]) {
      process.stderr.write(`error: ${formatProblem(problem)}\n`)
    }
    process.stderr.write(
      `${files.join(' ')}: invalid; run "peregrine rules validate" for details\n`,
    )
    process.exitCode = 1
    return undefined
  }
}

/** Returns one line per rule: tab-separated columns under a header, or JSON objects. */
export function listRules(ruleSet: RuleSet, asJson: boolean): string[] {
  if (asJson) return ruleSet.rules.map((rule) => JSON.stringify(rule))
  const header = ['NAME', 'PRIORITY', 'SOURCE', 'ENABLED', 'TAGS', 'EVENT TYPES']
  const rows = ruleSet.rules.map((rule) => [
    rule.name,
    rule.priority,
    rule.source,
    String(rule.enabled),
    rule.tags.join(',') || '-',
    rule.eventTypes === null ? 'all' : rule.eventTypes.join(','),
  ])
  return [header, ...rows].map((row) => row.join('\t'))
}

async function testRules(ruleSet: RuleSet, options: TestOptions): Promise<RuleTestSummary> {
  const logger = createLogger({
    service: 'rules-test',
    version: 'cli',
    level: options.logLevel as LogLevel,
    destination: process.stderr as never,
  })
  const source = createEventSource(options.events, { logger })
  const controller = new AbortController()
  const stop = (): void => controller.abort()
  process.once('SIGINT', stop)
  try {
    return await runRulesOnEvents(
      ruleSet,
      source.events(controller.signal),
      (match, event, index) => {
        const position = { topic: source.name, partition: 0, offset: String(index) }
        const alert = buildAlert(match, event, position)
        process.stdout.write(`${options.json === true ? toFalcoJsonLine(alert) : alert.output}\n`)
      },
      controller.signal,
    )
  } finally {
    process.removeListener('SIGINT', stop)
    await source.close()
  }
}

/** Returns the closing report of `rules test`: events read, alerts, then alerts per rule. */
export function summaryLines(summary: RuleTestSummary): string[] {
  const lines = [`events: ${summary.eventsRead}, alerts: ${summary.alerts}`]
  if (summary.alertsByRule.size > 0) lines.push('alerts by rule:')
  const byCount = [...summary.alertsByRule].sort(
    ([leftRule, left], [rightRule, right]) => right - left || leftRule.localeCompare(rightRule),
  )
  for (const [rule, count] of byCount) lines.push(`  ${rule}: ${count}`)
  return lines
}
