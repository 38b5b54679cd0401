import { joinLocators } from './condition-locator.js'
import type { ConditionLocator } from './condition-locator.js'
import { ItemProblem } from './load-problem.js'
import type { LoadReport, SourcePosition } from './load-problem.js'
import type { PriorityName } from './priority.js'
import { OVERRIDABLE_KEYS, readRuleFileItem } from './rule-items.js'
import type { ExceptionItem, ItemKind, RuleFileItem } from './rule-items.js'
import { readRequirement } from './requirements.js'
import type { RequirementOptions } from './requirements.js'
import { findPair } from './yaml-source.js'
import type { YamlItem } from './yaml-source.js'

/**
 * Common part of merged definitions. `index` is the load order of the first definition (it fixes
 * the rule order), `visibility` the load order of the last one (it bounds which earlier lists and
 * macros a definition can see).
 */
interface Definition {
  name: string
  position: SourcePosition
  index: number
  visibility: number
}

export interface ListDefinition extends Definition {
  items: string[]
}

export interface MacroDefinition extends Definition {
  condition: string
  conditionPosition: SourcePosition
  conditionLocator?: ConditionLocator
}

export interface RuleDefinition extends Definition {
  condition: string
  conditionPosition: SourcePosition
  conditionLocator?: ConditionLocator
  output: string
  outputPosition: SourcePosition
  desc: string
  priority: PriorityName
  source: string
  enabled: boolean
  tags: string[]
  exceptions: ExceptionItem[]
  warnEvttypes: boolean
  skipIfUnknownFilter: boolean
  capture: boolean
  captureDuration: number
}

const MACRO_NAME_PATTERN = /^[a-zA-Z]+[a-zA-Z0-9_]*$/
const LIST_NAME_PATTERN = /^[^\s(),="']+$/
const REQUIRED_RULE_KEYS = ['condition', 'output', 'desc', 'priority'] as const

/**
 * Merges the items of rules files, in load order, into one namespace of lists, macros and rules
 * with Falco's semantics for redefinition, `append: true` and `override`.
 */
export class RuleCollector {
  readonly lists = new Map<string, ListDefinition>()
  readonly macros = new Map<string, MacroDefinition>()
  readonly rules = new Map<string, RuleDefinition>()
  private loadOrder = 0

  constructor(
    private readonly report: LoadReport,
    private readonly requirementOptions: RequirementOptions,
  ) {}

  /** Adds one top-level item; a broken item is recorded as an error and skipped. */
  add(item: YamlItem): void {
    const kind = itemKind(item)
    try {
      if (kind === 'required_engine_version' || kind === 'required_plugin_versions') {
        readRequirement(kind, item, this.requirementOptions)
        return
      }
      if (kind === undefined) {
        const message = 'unknown top-level item'
        this.report.warn({ ...item.locate(item.map), code: 'LOAD_UNKNOWN_ITEM', message })
        return
      }
      this.addDefinition(readRuleFileItem(kind, item, this.report))
    } catch (error) {
      if (!(error instanceof ItemProblem)) throw error
      const itemName = kind === undefined ? undefined : nameOf(item, kind)
      this.report.error({
        ...(error.position ?? item.locate(item.map)),
        code: error.code,
        message: error.message,
        item: error.subject?.name ?? itemName,
        itemType: error.subject?.type ?? kind,
      })
    }
  }

  private addDefinition(parsed: RuleFileItem): void {
    const order = this.loadOrder++
    if (parsed.append && parsed.override !== undefined) {
      fail('LOAD_ERR_YAML_VALIDATE', "an item cannot have both 'append' and 'override'", parsed)
    }
    if (parsed.append) {
      const message = "'append' is deprecated: use 'override' with 'append' for each key"
      this.warn('LOAD_DEPRECATED_ITEM', message, parsed)
    }
    if (parsed.override !== undefined) checkOverrideKeys(parsed)

    if (parsed.kind === 'list') this.addList(parsed, order)
    else if (parsed.kind === 'macro') this.addMacro(parsed, order)
    else this.addRule(parsed, order)
  }

  private addList(parsed: RuleFileItem, order: number): void {
    const previous = this.lists.get(parsed.name)
    if (parsed.append || parsed.override !== undefined) {
      if (previous === undefined) failMissingTarget(parsed)
      const items = requireKey(parsed, 'items', parsed.items)
      const isReplace = parsed.override?.get('items') === 'replace'
      previous.items = isReplace ? items : [...previous.items, ...items]
      previous.visibility = order
      return
    }
    if (!LIST_NAME_PATTERN.test(parsed.name)) {
      this.warn('LOAD_INVALID_LIST_NAME', 'list names must be bare words', parsed)
    }
    const items = requireKey(parsed, 'items', parsed.items)
    const base = { name: parsed.name, position: parsed.position, index: order, visibility: order }
    if (previous !== undefined) base.index = previous.index
    this.lists.set(parsed.name, { ...base, items })
  }

  private addMacro(parsed: RuleFileItem, order: number): void {
    const previous = this.macros.get(parsed.name)
    const condition = requireKey(parsed, 'condition', parsed.condition)
    const conditionPosition = parsed.positions.get('condition') ?? parsed.position
    if (parsed.append || parsed.override !== undefined) {
      if (previous === undefined) failMissingTarget(parsed)
      const isReplace = parsed.override?.get('condition') === 'replace'
      previous.conditionLocator = isReplace
        ? parsed.conditionLocator
        : joinLocators(
            previous.conditionLocator,
            previous.condition.length,
            parsed.conditionLocator,
          )
      previous.condition = isReplace ? condition : `${previous.condition} ${condition}`
      previous.conditionPosition = conditionPosition
      previous.visibility = order
      return
    }
    if (!MACRO_NAME_PATTERN.test(parsed.name)) {
      const message = 'macro names should match [a-zA-Z]+[a-zA-Z0-9_]*'
      this.warn('LOAD_INVALID_MACRO_NAME', message, parsed)
    }
    const index = previous?.index ?? order
    const definition = { name: parsed.name, position: parsed.position, index, visibility: order }
    const { conditionLocator } = parsed
    this.macros.set(parsed.name, { ...definition, condition, conditionPosition, conditionLocator })
  }

  private addRule(parsed: RuleFileItem, order: number): void {
    const previous = this.rules.get(parsed.name)
    if (parsed.append) return this.appendRule(parsed, previous, order)
    if (parsed.override !== undefined) return this.overrideRule(parsed, previous, order)
    if (isEnableOnly(parsed)) {
      if (previous === undefined) failMissingTarget(parsed)
      const message = "an item with only 'rule' and 'enabled' is deprecated: use override"
      this.warn('LOAD_DEPRECATED_ITEM', message, parsed)
      previous.enabled = parsed.enabled ?? previous.enabled
      return
    }
    for (const key of REQUIRED_RULE_KEYS) requireKey(parsed, key, parsed[key])
    const exceptions = parsed.exceptions ?? []
    this.checkNewExceptions(exceptions, parsed)
    this.rules.set(parsed.name, {
      name: parsed.name,
      position: parsed.position,
      index: previous?.index ?? order,
      visibility: order,
      condition: parsed.condition ?? '',
      conditionPosition: parsed.positions.get('condition') ?? parsed.position,
      conditionLocator: parsed.conditionLocator,
      output: (parsed.output ?? '').trim(),
      outputPosition: parsed.positions.get('output') ?? parsed.position,
      desc: parsed.desc ?? '',
      priority: parsed.priority ?? 'Debug',
      source: parsed.source ?? 'syscall',
      enabled: parsed.enabled ?? true,
      tags: uniqueTags(parsed.tags ?? []),
      exceptions,
      warnEvttypes: parsed.warnEvttypes ?? true,
      skipIfUnknownFilter: parsed.skipIfUnknownFilter ?? false,
      capture: parsed.capture ?? false,
      captureDuration: parsed.captureDuration ?? 0,
    })
  }

  private appendRule(parsed: RuleFileItem, previous: RuleDefinition | undefined, order: number) {
    if (parsed.condition === undefined && parsed.exceptions === undefined) {
      const message = 'an appended rule must have a condition or exceptions'
      fail('LOAD_ERR_VALIDATE', message, parsed)
    }
    if (previous === undefined) failMissingTarget(parsed)
    if (parsed.condition !== undefined) {
      const { conditionLocator } = parsed
      const length = previous.condition.length
      previous.conditionLocator = joinLocators(previous.conditionLocator, length, conditionLocator)
      previous.condition = `${previous.condition} ${parsed.condition}`
      previous.conditionPosition = parsed.positions.get('condition') ?? parsed.position
    }
    if (parsed.exceptions !== undefined) this.appendExceptions(previous, parsed.exceptions, parsed)
    previous.visibility = order
  }

  private overrideRule(parsed: RuleFileItem, previous: RuleDefinition | undefined, order: number) {
    if (previous === undefined) failMissingTarget(parsed)
    for (const [key, mode] of parsed.override ?? []) {
      if (mode === 'append') this.appendRuleKey(previous, key, parsed)
      else this.replaceRuleKey(previous, key, parsed)
    }
    previous.visibility = order
  }

  private appendRuleKey(rule: RuleDefinition, key: string, parsed: RuleFileItem): void {
    if (key === 'condition') {
      const length = rule.condition.length
      rule.conditionLocator = joinLocators(rule.conditionLocator, length, parsed.conditionLocator)
    }
    if (key === 'condition' || key === 'output' || key === 'desc') {
      rule[key] = `${rule[key]} ${parsed[key] ?? ''}`
      if (key !== 'desc') rule[`${key}Position`] = parsed.positions.get(key) ?? parsed.position
    } else if (key === 'tags') {
      rule.tags = uniqueTags([...rule.tags, ...(parsed.tags ?? [])])
    } else if (key === 'exceptions') {
      this.appendExceptions(rule, parsed.exceptions ?? [], parsed)
    }
  }

  private replaceRuleKey(rule: RuleDefinition, key: string, parsed: RuleFileItem): void {
    const position = parsed.positions.get(key) ?? parsed.position
    switch (key) {
      case 'condition':
        rule.condition = parsed.condition ?? ''
        rule.conditionPosition = position
        rule.conditionLocator = parsed.conditionLocator
        return
      case 'output':
        rule.output = (parsed.output ?? '').trim()
        rule.outputPosition = position
        return
      case 'exceptions':
        this.checkNewExceptions(parsed.exceptions ?? [], parsed)
        rule.exceptions = parsed.exceptions ?? []
        return
      case 'tags':
        rule.tags = uniqueTags(parsed.tags ?? [])
        return
      case 'warn_evttypes':
        rule.warnEvttypes = parsed.warnEvttypes ?? rule.warnEvttypes
        return
      case 'skip-if-unknown-filter':
        rule.skipIfUnknownFilter = parsed.skipIfUnknownFilter ?? rule.skipIfUnknownFilter
        return
      case 'capture_duration':
        rule.captureDuration = parsed.captureDuration ?? rule.captureDuration
        return
      default: {
        const property = key as 'desc' | 'priority' | 'enabled' | 'capture'
        const value = parsed[property]
        if (value !== undefined) Object.assign(rule, { [property]: value })
      }
    }
  }

  private checkNewExceptions(exceptions: ExceptionItem[], parsed: RuleFileItem): void {
    const seen = new Set<string>()
    for (const exception of exceptions) {
      if (exception.fields === undefined) {
        throw new ItemProblem(
          'LOAD_ERR_YAML_VALIDATE',
          "Item has no mapping for key 'fields'",
          exception.position,
          { name: exception.name, type: 'exception' },
        )
      }
      if (seen.has(exception.name)) {
        const message = `exception name '${exception.name}' is used twice in this rule`
        this.warn('LOAD_EXCEPTION_NAME_NOT_UNIQUE', message, parsed)
      }
      seen.add(exception.name)
    }
  }

  private appendExceptions(rule: RuleDefinition, added: ExceptionItem[], parsed: RuleFileItem) {
    for (const exception of added) {
      const existing = rule.exceptions.find((candidate) => candidate.name === exception.name)
      if (existing === undefined) {
        if (exception.fields === undefined) {
          const message = 'a new exception must have a fields property with a list of fields'
          const subject = { name: exception.name, type: 'exception' }
          throw new ItemProblem('LOAD_ERR_VALIDATE', message, exception.position, subject)
        }
        rule.exceptions.push(exception)
        continue
      }
      if (exception.fields !== undefined || exception.comps !== undefined) {
        const message = 'the exception exists, so appending to it may add values only'
        const subject = { name: exception.name, type: 'exception' }
        throw new ItemProblem('LOAD_ERR_VALIDATE', message, exception.position, subject)
      }
      if (!exception.hasValues || exception.values.length === 0) {
        const message = `appending to exception '${exception.name}' adds no values`
        this.warn('LOAD_APPEND_NO_VALUES', message, parsed)
      }
      existing.values = [...existing.values, ...exception.values]
    }
  }

  private warn(
    code: Parameters<LoadReport['warn']>[0]['code'],
    message: string,
    parsed: RuleFileItem,
  ) {
    const item = parsed.name
    this.report.warn({ ...parsed.position, code, message, item, itemType: parsed.kind })
  }
}

function itemKind(item: YamlItem) {
  for (const kind of ['required_engine_version', 'required_plugin_versions'] as const) {
    if (findPair(item.map, kind) !== undefined) return kind
  }
  for (const kind of ['list', 'macro', 'rule'] as const) {
    if (findPair(item.map, kind) !== undefined) return kind
  }
  return undefined
}

function nameOf(item: YamlItem, kind: string): string {
  const value = findPair(item.map, kind)?.value as { value?: unknown } | null | undefined
  return kind.startsWith('required_') ? '' : String(value?.value ?? '')
}

function isEnableOnly(parsed: RuleFileItem): boolean {
  const keys = [...parsed.keys]
  return parsed.keys.has('enabled') && keys.every((key) => key === 'rule' || key === 'enabled')
}

function checkOverrideKeys(parsed: RuleFileItem): void {
  const allowed = OVERRIDABLE_KEYS[parsed.kind]
  for (const [key, mode] of parsed.override ?? []) {
    if (!(allowed[key] ?? []).includes(mode)) {
      fail('LOAD_ERR_YAML_VALIDATE', `key '${key}' cannot be overridden with '${mode}'`, parsed)
    }
    if (!parsed.keys.has(key)) {
      fail('LOAD_ERR_YAML_VALIDATE', `override lists '${key}' but the item has no '${key}'`, parsed)
    }
  }
  for (const key of parsed.keys) {
    if (key === parsed.kind || key === 'override' || parsed.override?.has(key) === true) continue
    fail('LOAD_ERR_YAML_VALIDATE', `key '${key}' must be listed under 'override'`, parsed)
  }
}

function requireKey<T>(parsed: RuleFileItem, key: string, value: T | undefined): T {
  if (value !== undefined) return value
  return fail('LOAD_ERR_YAML_VALIDATE', `Item has no mapping for key '${key}'`, parsed)
}

function failMissingTarget(parsed: RuleFileItem): never {
  const how = parsed.append
    ? "'append'"
    : parsed.override !== undefined
      ? "'override'"
      : "'enabled'"
  const kind: ItemKind = parsed.kind
  const title = kind[0].toUpperCase() + kind.slice(1)
  return fail(
    'LOAD_ERR_VALIDATE',
    `${title} has ${how} key but no ${kind} by that name already exists`,
    parsed,
  )
}

function fail(code: ItemProblem['code'], message: string, parsed: RuleFileItem): never {
  throw new ItemProblem(code, message, parsed.position)
}

function uniqueTags(tags: string[]): string[] {
  return [...new Set(tags)]
}
