import { isMap, isScalar, isSeq } from 'yaml'
import type { Node, Pair } from 'yaml'
import { scalarLocator } from './condition-locator.js'
import type { ConditionLocator } from './condition-locator.js'
import { ItemProblem } from './load-problem.js'
import type { LoadReport, SourcePosition } from './load-problem.js'
import { parsePriority } from './priority.js'
import type { PriorityName } from './priority.js'
import { findPair, keysOf, scalarBoolean, scalarList, scalarText } from './yaml-source.js'
import type { YamlItem } from './yaml-source.js'

export type ItemKind = 'list' | 'macro' | 'rule'
export type OverrideMode = 'append' | 'replace'

/** A value of an exception: text, or a YAML list of values written as `(a, b)`. */
export type ExceptionValue = string | ExceptionValue[]

export interface ExceptionItem {
  name: string
  fields?: string | string[]
  comps?: string | string[]
  values: ExceptionValue[]
  hasValues: boolean
  position: SourcePosition
}

/** One list, macro or rule item as written, before it is merged with earlier definitions. */
export interface RuleFileItem {
  kind: ItemKind
  name: string
  position: SourcePosition
  keys: Set<string>
  positions: Map<string, SourcePosition>
  append: boolean
  override?: Map<string, OverrideMode>
  items?: string[]
  condition?: string
  conditionLocator?: ConditionLocator
  output?: string
  desc?: string
  priority?: PriorityName
  source?: string
  enabled?: boolean
  tags?: string[]
  exceptions?: ExceptionItem[]
  warnEvttypes?: boolean
  skipIfUnknownFilter?: boolean
  capture?: boolean
  captureDuration?: number
}

const KNOWN_KEYS: Record<ItemKind, ReadonlySet<string>> = {
  list: new Set(['list', 'items', 'append', 'override']),
  macro: new Set(['macro', 'condition', 'append', 'override']),
  rule: new Set([
    'rule',
    'condition',
    'output',
    'desc',
    'priority',
    'source',
    'enabled',
    'tags',
    'exceptions',
    'warn_evttypes',
    'skip-if-unknown-filter',
    'capture',
    'capture_duration',
    'append',
    'override',
  ]),
}

/** Keys each item kind accepts under `override`, with the modes allowed for each. */
export const OVERRIDABLE_KEYS: Record<ItemKind, Record<string, readonly OverrideMode[]>> = {
  list: { items: ['append', 'replace'] },
  macro: { condition: ['append', 'replace'] },
  rule: {
    condition: ['append', 'replace'],
    output: ['append', 'replace'],
    desc: ['append', 'replace'],
    tags: ['append', 'replace'],
    exceptions: ['append', 'replace'],
    priority: ['replace'],
    enabled: ['replace'],
    warn_evttypes: ['replace'],
    'skip-if-unknown-filter': ['replace'],
    capture: ['replace'],
    capture_duration: ['replace'],
  },
}

/**
 * Reads a list, macro or rule item into a RuleFileItem. Unknown keys are reported as warnings;
 * a malformed value throws ItemProblem.
 */
export function readRuleFileItem(kind: ItemKind, item: YamlItem, report: LoadReport): RuleFileItem {
  const namePair = findPair(item.map, kind)
  const name = scalarText(namePair?.value, kind, item)
  const position = item.locate(item.map)
  if (name === '') {
    const message = `Mapping for key '${kind}' is empty`
    throw new ItemProblem('LOAD_ERR_YAML_VALIDATE', message, position)
  }

  const parsed: RuleFileItem = {
    kind,
    name,
    position,
    keys: new Set(keysOf(item.map)),
    positions: new Map(),
    append: false,
  }
  for (const pair of item.map.items as Pair<Node, Node | null>[]) {
    const key = isScalar(pair.key) ? String(pair.key.value) : ''
    parsed.positions.set(key, item.locate(pair.value ?? pair.key))
    if (!KNOWN_KEYS[kind].has(key)) {
      const where = item.locate(pair.key)
      const message = `unknown key '${key}'`
      report.warn({ ...where, code: 'LOAD_UNKNOWN_KEY', message, item: name, itemType: kind })
      continue
    }
    readKey(parsed, key, pair.value, item)
  }
  return parsed
}

function readKey(parsed: RuleFileItem, key: string, value: Node | null, item: YamlItem): void {
  switch (key) {
    case 'append':
      parsed.append = scalarBoolean(value, key, item)
      return
    case 'override':
      parsed.override = readOverride(value, item)
      return
    case 'items':
      parsed.items = scalarList(value, key, item)
      return
    case 'condition':
      parsed.condition = scalarText(value, key, item)
      parsed.conditionLocator = scalarLocator(value, item)
      return
    case 'output':
    case 'desc':
    case 'source':
      parsed[key as 'output' | 'desc' | 'source'] = scalarText(value, key, item)
      return
    case 'priority':
      parsed.priority = readPriority(value, item)
      return
    case 'tags':
      parsed.tags = scalarList(value, key, item)
      return
    case 'exceptions':
      parsed.exceptions = readExceptions(value, item)
      return
    case 'enabled':
    case 'capture':
    case 'warn_evttypes':
    case 'skip-if-unknown-filter':
      parsed[booleanProperty(key)] = scalarBoolean(value, key, item)
      return
    case 'capture_duration':
      parsed.captureDuration = readInteger(value, key, item)
  }
}

function booleanProperty(
  key: string,
): 'enabled' | 'capture' | 'warnEvttypes' | 'skipIfUnknownFilter' {
  if (key === 'warn_evttypes') return 'warnEvttypes'
  if (key === 'skip-if-unknown-filter') return 'skipIfUnknownFilter'
  return key as 'enabled' | 'capture'
}

function readPriority(value: Node | null, item: YamlItem): PriorityName {
  const text = scalarText(value, 'priority', item)
  const priority = parsePriority(text)
  if (priority !== undefined) return priority
  const message = `invalid priority '${text}'`
  throw new ItemProblem('LOAD_ERR_YAML_VALIDATE', message, item.locate(value))
}

function readInteger(value: Node | null, key: string, item: YamlItem): number {
  const text = scalarText(value, key, item)
  if (/^\d+$/.test(text)) return Number(text)
  const message = `invalid value for '${key}': expected a non-negative integer, found '${text}'`
  throw new ItemProblem('LOAD_ERR_YAML_VALIDATE', message, item.locate(value))
}

function readOverride(value: Node | null, item: YamlItem): Map<string, OverrideMode> {
  if (!isMap(value)) {
    const message = "invalid value for 'override': expected a map of key: append|replace"
    throw new ItemProblem('LOAD_ERR_YAML_VALIDATE', message, item.locate(value))
  }
  const modes = new Map<string, OverrideMode>()
  for (const pair of value.items as Pair<Node, Node | null>[]) {
    const key = scalarText(pair.key, 'override', item)
    const mode = scalarText(pair.value, `override.${key}`, item)
    if (mode !== 'append' && mode !== 'replace') {
      const message = `invalid override mode '${mode}' for key '${key}': use append or replace`
      throw new ItemProblem('LOAD_ERR_YAML_VALIDATE', message, item.locate(pair.value))
    }
    modes.set(key, mode)
  }
  return modes
}

function readExceptions(value: Node | null, item: YamlItem): ExceptionItem[] {
  if (value === null || (isScalar(value) && value.value === null)) return []
  if (!isSeq(value)) {
    const message = "invalid value for 'exceptions': expected a sequence of maps"
    throw new ItemProblem('LOAD_ERR_YAML_VALIDATE', message, item.locate(value))
  }
  return (value.items as Node[]).map((entry) => readException(entry, item))
}

const EXCEPTION_WITHOUT_NAME = { name: '', type: 'exception' }

function readException(entry: Node, item: YamlItem): ExceptionItem {
  const position = item.locate(entry)
  if (!isMap(entry)) {
    const message = 'invalid exception: expected a map with name, fields, comps and values'
    throw new ItemProblem('LOAD_ERR_YAML_VALIDATE', message, position)
  }
  const namePair = findPair(entry, 'name')
  if (namePair === undefined) {
    const message = "Item has no mapping for key 'name'"
    throw new ItemProblem('LOAD_ERR_YAML_VALIDATE', message, position, EXCEPTION_WITHOUT_NAME)
  }
  const exception: ExceptionItem = {
    name: scalarText(namePair.value, 'name', item),
    values: [],
    hasValues: false,
    position,
  }
  const fields = findPair(entry, 'fields')
  if (fields !== undefined) exception.fields = readTextOrList(fields.value, 'fields', item)
  const comps = findPair(entry, 'comps')
  if (comps !== undefined) exception.comps = readTextOrList(comps.value, 'comps', item)
  const values = findPair(entry, 'values')
  if (values !== undefined) {
    exception.hasValues = true
    const tree = readValueTree(values.value, item)
    if (Array.isArray(tree)) exception.values = tree
    else if (tree !== '') exception.values = [tree]
  }
  return exception
}

function readTextOrList(value: Node | null, key: string, item: YamlItem): string | string[] {
  if (isSeq(value)) return scalarList(value, key, item)
  return scalarText(value, key, item)
}

function readValueTree(value: Node | null, item: YamlItem): ExceptionValue {
  if (value === null) return ''
  if (isSeq(value)) return (value.items as Node[]).map((child) => readValueTree(child, item))
  return scalarText(value, 'values', item)
}
