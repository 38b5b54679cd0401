import type { MacroDefinition, RuleCollector, RuleDefinition } from './collector.js'
import type { ConditionNode } from './condition-ast.js'
import { compileCondition, UnknownFieldError } from './condition-compiler.js'
import type { CompileWarning } from './condition-compiler.js'
import { ConditionSyntaxError, OPERATORS, parseCondition } from './condition-parser.js'
import { conditionEventTypes, eventTypeCount } from './event-type-set.js'
import type { EventTypeSet } from './event-type-set.js'
import { applyExceptions } from './exceptions.js'
import { resolveField } from './field-table.js'
import { expandLists, substituteLists } from './list-substitution.js'
import type { ExpandedList } from './list-substitution.js'
import { ItemProblem } from './load-problem.js'
import type { LoadErrorCode, LoadReport, LoadWarningCode, SourcePosition } from './load-problem.js'
import { expandMacros, MacroResolutionError } from './macro-resolver.js'
import type { ParsedMacro } from './macro-resolver.js'
import { CheckError } from './operators.js'
import type { Predicate } from './operators.js'
import { OutputFormat, OutputFormatError } from './output-format.js'
import { priorityRank } from './priority.js'
import type { PriorityName } from './priority.js'

/** A rule ready to evaluate. */
export interface CompiledRule {
  definition: RuleDefinition
  /** The condition with exceptions, lists and macros expanded. */
  condition: ConditionNode
  predicate: Predicate
  eventTypes: EventTypeSet
  output: OutputFormat
}

/** The compiled rules, and every macro that expanded without error, by name. */
export interface CompileResult {
  rules: CompiledRule[]
  macros: ReadonlyMap<string, ConditionNode>
}

export interface CompileOptions {
  minPriority: PriorityName
  sources: ReadonlySet<string>
}

/** Event types past which a rule gets LOAD_NO_EVTTYPE, as in Falco. */
const MAX_EVENT_TYPES_WITHOUT_WARNING = 100
const SKIPPED = Symbol('skipped')

/**
 * Compiles the collected rules in load order: exceptions, list substitution, parsing, macro
 * expansion, field resolution, event-type indexing and the output format. Every failure goes to
 * the report, and the rules that compiled are returned.
 */
export function compileRules(
  collector: RuleCollector,
  report: LoadReport,
  options: CompileOptions,
): CompileResult {
  const compiler = new RuleCompiler(collector, report, options)
  const rules = compiler.compile()
  return { rules, macros: compiler.expandedMacros }
}

class RuleCompiler {
  private readonly usedLists = new Set<string>()
  private readonly usedMacros = new Set<string>()
  private readonly lists: ExpandedList[]
  private readonly macros = new Map<string, ParsedMacro>()
  readonly expandedMacros = new Map<string, ConditionNode>()

  constructor(
    private readonly collector: RuleCollector,
    private readonly report: LoadReport,
    private readonly options: CompileOptions,
  ) {
    this.lists = expandLists(collector.lists, this.usedLists)
  }

  compile(): CompiledRule[] {
    this.parseMacros()
    this.checkMacroReferences()
    const compiled: CompiledRule[] = []
    for (const rule of this.collector.rules.values()) {
      if (priorityRank(rule.priority) > priorityRank(this.options.minPriority)) continue
      const result = this.compileRule(rule)
      if (result !== SKIPPED) compiled.push(result)
    }
    this.reportUnused()
    return compiled
  }

  private parseMacros(): void {
    for (const macro of this.collector.macros.values()) {
      const parsed: ParsedMacro = {
        name: macro.name,
        index: macro.index,
        visibility: macro.visibility,
      }
      this.macros.set(macro.name, parsed)
      const text = substituteLists(macro.condition, this.lists, this.usedLists)
      try {
        parsed.tree = parseCondition(text)
      } catch (error) {
        if (!(error instanceof ConditionSyntaxError)) throw error
        const position = locateSyntaxError(macro) ?? macro.conditionPosition
        this.error('LOAD_ERR_COMPILE_CONDITION', error.message, position, macro.name, 'macro')
      }
    }
  }

  private checkMacroReferences(): void {
    for (const macro of this.macros.values()) {
      if (macro.tree === undefined) continue
      try {
        const { usedMacros, expandedMacros } = this
        expandMacros(
          macro.tree,
          this.macros,
          macro.visibility,
          usedMacros,
          [macro.name],
          expandedMacros,
        )
      } catch (error) {
        if (!(error instanceof MacroResolutionError)) throw error
        if (error.reason === 'broken') continue
        const definition = this.collector.macros.get(macro.name)
        const position = definition?.conditionPosition ?? definition?.position
        this.error('LOAD_ERR_VALIDATE', error.message, position, macro.name, 'macro')
      }
    }
  }

  private compileRule(rule: RuleDefinition): CompiledRule | typeof SKIPPED {
    if (!this.options.sources.has(rule.source)) {
      const message = `unknown source '${rule.source}', rule skipped`
      this.warn('LOAD_UNKNOWN_SOURCE', message, rule)
      return SKIPPED
    }
    const warn: CompileWarning = (code, message) => this.warn(code, message, rule)
    try {
      const tree = this.ruleTree(rule)
      const predicate = compileCondition(tree, warn)
      const eventTypes = conditionEventTypes(tree)
      if (rule.warnEvttypes && eventTypeCount(eventTypes) > MAX_EVENT_TYPES_WITHOUT_WARNING) {
        const message =
          'Rule matches too many evt.type values. This has a significant performance penalty.'
        this.warn('LOAD_NO_EVTTYPE', message, rule)
      }
      const output = this.compileOutput(rule, warn)
      return { definition: rule, condition: tree, predicate, eventTypes, output }
    } catch (error) {
      return this.handleRuleError(rule, error)
    }
  }

  private ruleTree(rule: RuleDefinition) {
    const condition = applyExceptions(rule.condition, rule.exceptions, {
      checkField: (field) => {
        const resolved = resolveField(field)
        return typeof resolved === 'string'
          ? `'${field}' is not a supported filter field`
          : undefined
      },
      checkOperator: (operator) => {
        const base = operator.replace(/\s+(anyof|oneof|allof)$/, '')
        return OPERATORS.has(base)
          ? undefined
          : `'${operator}' is not a supported comparison operator`
      },
    })
    const text = substituteLists(condition, this.lists, this.usedLists)
    const tree = parseCondition(text)
    return expandMacros(tree, this.macros, Infinity, this.usedMacros, [], this.expandedMacros)
  }

  private compileOutput(rule: RuleDefinition, warn: CompileWarning): OutputFormat {
    try {
      return new OutputFormat(rule.output, warn)
    } catch (error) {
      if (!(error instanceof OutputFormatError)) throw error
      throw new ItemProblem('LOAD_ERR_COMPILE_OUTPUT', error.message, rule.outputPosition)
    }
  }

  private handleRuleError(rule: RuleDefinition, error: unknown): typeof SKIPPED {
    if (error instanceof UnknownFieldError && rule.skipIfUnknownFilter) {
      this.warn('LOAD_UNKNOWN_FILTER', `${error.message}, rule skipped`, rule)
      return SKIPPED
    }
    if (error instanceof ItemProblem) {
      const item = error.subject?.name ?? rule.name
      const itemType = error.subject?.type ?? 'rule'
      this.error(error.code, error.message, error.position ?? rule.position, item, itemType)
    } else if (error instanceof ConditionSyntaxError) {
      const position = locateSyntaxError(rule) ?? rule.conditionPosition
      this.error('LOAD_ERR_COMPILE_CONDITION', error.message, position, rule.name, 'rule')
    } else if (error instanceof CheckError) {
      const position = this.locateToken(rule, error.token) ?? rule.conditionPosition
      this.error('LOAD_ERR_COMPILE_CONDITION', error.message, position, rule.name, 'rule')
    } else if (error instanceof MacroResolutionError) {
      // A broken macro was already reported where it is defined, so the rule adds nothing new.
      if (error.reason !== 'broken') {
        this.error('LOAD_ERR_VALIDATE', error.message, rule.conditionPosition, rule.name, 'rule')
      }
    } else {
      throw error
    }
    return SKIPPED
  }

  /**
   * Finds where a field or value that failed to compile is written: in the rule's condition, or
   * else in the first macro whose condition contains it.
   */
  private locateToken(rule: RuleDefinition, token: string | undefined): SourcePosition | undefined {
    if (token === undefined) return undefined
    const escaped = token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    const pattern = new RegExp(`(?<![\\w.])${escaped}(?![\\w.])`)
    for (const definition of [rule, ...this.collector.macros.values()]) {
      const match = pattern.exec(definition.condition)
      if (match === null) continue
      return definition.conditionLocator?.(match.index) ?? definition.conditionPosition
    }
    return undefined
  }

  private reportUnused(): void {
    for (const macro of this.collector.macros.values()) {
      if (this.usedMacros.has(macro.name)) continue
      const message = 'Macro not referred to by any other rule/macro'
      this.report.warn({
        ...macro.position,
        code: 'LOAD_UNUSED_MACRO',
        message,
        item: macro.name,
        itemType: 'macro',
      })
    }
    for (const list of this.collector.lists.values()) {
      if (this.usedLists.has(list.name)) continue
      const message = 'List not referred to by any other rule/macro'
      this.report.warn({
        ...list.position,
        code: 'LOAD_UNUSED_LIST',
        message,
        item: list.name,
        itemType: 'list',
      })
    }
  }

  private error(
    code: LoadErrorCode,
    message: string,
    position: SourcePosition | undefined,
    item: string,
    itemType: string,
  ): void {
    const where = position ?? { file: '', line: 0, column: 0 }
    this.report.error({ ...where, code, message, item, itemType })
  }

  private warn(code: LoadWarningCode, message: string, rule: RuleDefinition): void {
    const duplicate = this.report.warnings.some(
      (warning) =>
        warning.item === rule.name && warning.code === code && warning.message === message,
    )
    if (duplicate) return
    this.report.warn({ ...rule.position, code, message, item: rule.name, itemType: 'rule' })
  }
}

/**
 * Locates a syntax error in the condition as written. Errors that only list substitution or
 * exceptions introduce have no place in the written text, so they return undefined.
 */
function locateSyntaxError(
  definition: MacroDefinition | RuleDefinition,
): SourcePosition | undefined {
  try {
    parseCondition(definition.condition)
  } catch (error) {
    if (error instanceof ConditionSyntaxError) return definition.conditionLocator?.(error.offset)
    throw error
  }
  return undefined
}
