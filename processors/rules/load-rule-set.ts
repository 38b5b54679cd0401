import { RuleCollector } from './collector.js'
import { LoadReport } from './load-problem.js'
import { parsePriority } from './priority.js'
import type { PriorityName } from './priority.js'
import { BUILT_IN_PLUGINS, ENGINE_VERSION } from './requirements.js'
import { compileRules } from './rule-compiler.js'
import type { CompiledRule } from './rule-compiler.js'
import { RuleSet } from './rule-set.js'
import type { RuleMatching } from './rule-set.js'
import { expandRulesPaths, parseRulesText, readRulesFile } from './yaml-source.js'

export interface LoadRuleSetOptions {
  /** Rules below this priority are dropped at load time, as Falco's `priority` setting does. */
  minPriority?: PriorityName | string
  /** `first` (default) stops at the first matching rule per event, `all` reports every one. */
  ruleMatching?: RuleMatching
  /** Disables the rules whose name contains any of these texts (Falco's `-D`). */
  disabledRules?: string[]
  /** Disables the rules with any of these tags (Falco's `-T`). */
  disabledTags?: string[]
  /** Keeps enabled only the rules with at least one of these tags (Falco's `-t`). */
  enabledTags?: string[]
  /** Event sources whose rules are compiled; rules of other sources are skipped with a warning. */
  sources?: string[]
  /** Plugin versions that `required_plugin_versions` is checked against. */
  plugins?: Record<string, string>
}

const DEFAULT_SOURCES = ['syscall']

/**
 * Loads rules files and folders, in order, into one compiled RuleSet with Falco's semantics.
 * Throws RuleError listing every load error with its file, line, column, code and item. The
 * error's context carries them as `errors`, with the `warnings`.
 */
export function loadRuleSet(paths: string[], options: LoadRuleSetOptions = {}): RuleSet {
  const report = new LoadReport()
  const minPriority = resolveMinPriority(options.minPriority, report)
  const plugins = options.plugins ?? BUILT_IN_PLUGINS
  const collector = new RuleCollector(report, { engineVersion: ENGINE_VERSION, plugins })
  for (const file of expandRulesPaths(paths, report)) {
    const text = readRulesFile(file, report)
    if (text === undefined) continue
    for (const item of parseRulesText(file, text, report)) collector.add(item)
  }

  checkSelection(options, report)
  const sources = new Set(options.sources ?? DEFAULT_SOURCES)
  const { rules: compiled, macros } = compileRules(collector, report, { minPriority, sources })
  report.throwIfFailed()
  applySelection(compiled, options)
  return new RuleSet(compiled, report.warnings, options.ruleMatching ?? 'first', macros)
}

function resolveMinPriority(value: string | undefined, report: LoadReport): PriorityName {
  if (value === undefined) return 'Debug'
  const priority = parsePriority(value)
  if (priority !== undefined) return priority
  const message = `invalid minimum priority '${value}'`
  report.error({ file: '<options>', line: 0, column: 0, code: 'LOAD_ERR_VALIDATE', message })
  return 'Debug'
}

/**
 * Rejects enabledTags together with disabledRules or disabledTags, as Falco rejects `-t` with
 * `-D` or `-T`: which of them wins would be a guess.
 */
function checkSelection(options: LoadRuleSetOptions, report: LoadReport): void {
  const disables = (options.disabledRules?.length ?? 0) + (options.disabledTags?.length ?? 0)
  if (disables === 0 || (options.enabledTags?.length ?? 0) === 0) return
  const message =
    'enabledTags (-t) cannot be combined with disabledRules (-D) or disabledTags (-T); ' +
    'use one or the other'
  report.error({ file: '<options>', line: 0, column: 0, code: 'LOAD_ERR_VALIDATE', message })
}

function applySelection(compiled: CompiledRule[], options: LoadRuleSetOptions): void {
  const disabledNames = options.disabledRules ?? []
  const disabledTags = new Set(options.disabledTags ?? [])
  const enabledTags = new Set(options.enabledTags ?? [])
  for (const { definition } of compiled) {
    if (disabledNames.some((text) => definition.name.includes(text))) definition.enabled = false
    if (definition.tags.some((tag) => disabledTags.has(tag))) definition.enabled = false
    if (enabledTags.size > 0 && !definition.tags.some((tag) => enabledTags.has(tag))) {
      definition.enabled = false
    }
  }
}
