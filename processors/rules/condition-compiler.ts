import type {
  BooleanNode,
  CheckNode,
  ConditionNode,
  LiteralValue,
  Operand,
} from './condition-ast.js'
import { operandText } from './condition-ast.js'
import { EVENT_TYPE_NAMES } from './event-table.js'
import { resolveField } from './field-table.js'
import type { LoadWarningCode } from './load-problem.js'
import { buildCheck, CheckError } from './operators.js'
import type { CheckOperand, CheckRight, Predicate } from './operators.js'
import { compileTransformer } from './transformers.js'

/** A field name that is not in the table; rules with skip-if-unknown-filter are dropped on it. */
export class UnknownFieldError extends CheckError {}

export type CompileWarning = (code: LoadWarningCode, message: string) => void

const NOT_AVAILABLE = '<NA>'
/**
 * Falco warns about comparing with "<NA>" only for the fields of its Kubernetes audit sources
 * (`ka.*`, `jevt.*`) and equality operators (filter_warning_resolver.cpp in falcosecurity/falco),
 * not for syscall fields such as proc.name, which the upstream rules compare with "<NA>".
 */
const UNSAFE_NA_FIELD_PREFIXES = ['ka.', 'jevt.']
const UNSAFE_NA_OPERATORS = new Set(['=', '==', '!=', 'in', 'intersects', 'pmatch'])
const EVENT_TYPE_OPERATORS = new Set(['=', '==', '!=', 'in', 'intersects'])

/**
 * Compiles a macro-free condition tree into one predicate made of closures, so evaluating an
 * event runs no interpreter over the tree. Throws CheckError, or UnknownFieldError for an unknown
 * field. Deprecated fields and `<NA>` comparisons are reported through `warn`. Subtrees shared
 * by macro expansion are compiled once, through `compiled`.
 */
export function compileCondition(
  node: ConditionNode,
  warn: CompileWarning,
  compiled: Map<ConditionNode, Predicate> = new Map(),
): Predicate {
  const known = compiled.get(node)
  if (known !== undefined) return known
  const predicate = compileNode(node, warn, compiled)
  compiled.set(node, predicate)
  return predicate
}

function compileNode(
  node: ConditionNode,
  warn: CompileWarning,
  compiled: Map<ConditionNode, Predicate>,
): Predicate {
  switch (node.kind) {
    case 'not': {
      const child = compileCondition(node.child, warn, compiled)
      return (event) => !child(event)
    }
    case 'and':
      return compileAnd(orderOperands(node).map((child) => compileCondition(child, warn, compiled)))
    case 'or':
      return compileOr(orderOperands(node).map((child) => compileCondition(child, warn, compiled)))
    case 'check':
      return compileCheck(node, warn)
    case 'macro':
      throw new CheckError(`macro '${node.name}' was not expanded`)
  }
}

/** Compiles a field or transformer operand; throws CheckError. */
export function compileOperand(operand: Operand, warn?: CompileWarning): CheckOperand {
  const text = operandText(operand)
  if (operand.kind === 'transformer') {
    return compileTransformer(operand.name, operand.args, text, (inner) =>
      compileOperand(inner, warn),
    )
  }
  const field = resolveField(operand.name, operand.arg)
  if (typeof field === 'string') {
    if (field.startsWith('unknown field')) throw new UnknownFieldError(field, operand.name)
    throw new CheckError(field, operand.name)
  }
  if (field.isDeprecated) warn?.('LOAD_DEPRECATED_ITEM', `field '${text}' is deprecated`)
  const { accessor, type, isList, isNotEqualForAll } = field
  return { accessor, type, text, isList, isNotEqualForAll }
}

function compileCheck(node: CheckNode, warn: CompileWarning): Predicate {
  const left = compileOperand(node.left, warn)
  const right = compileRight(node, warn)
  if (right?.kind === 'values') {
    if (isUnsafeNaCheck(left.text, node.operator) && right.values.includes(NOT_AVAILABLE)) {
      warn('LOAD_UNSAFE_NA_CHECK', `comparing '${left.text}' with "<NA>" is unreliable`)
    }
    if (left.text === 'evt.type' && EVENT_TYPE_OPERATORS.has(node.operator)) {
      const unknown = right.values.find((value) => !EVENT_TYPE_NAMES.has(value))
      if (unknown !== undefined) throw new CheckError(`unknown event type ${unknown}`, unknown)
    }
  }
  try {
    return buildCheck(left, node.operator, node.quantifier, right)
  } catch (error) {
    if (error instanceof CheckError) error.token ??= left.text
    throw error
  }
}

function isUnsafeNaCheck(field: string, operator: string): boolean {
  return (
    UNSAFE_NA_OPERATORS.has(operator) &&
    UNSAFE_NA_FIELD_PREFIXES.some((prefix) => field.startsWith(prefix))
  )
}

function compileRight(node: CheckNode, warn: CompileWarning): CheckRight | undefined {
  const right = node.right
  if (right === undefined) return undefined
  if (right.kind === 'fieldValue')
    return { kind: 'field', operand: compileOperand(right.operand, warn) }
  const values: LiteralValue[] = right.kind === 'list' ? right.values : [right]
  return {
    kind: 'values',
    values: values.map((value) => value.value),
    isList: right.kind === 'list',
  }
}

function compileAnd(children: Predicate[]): Predicate {
  if (children.length === 2) {
    const [first, second] = children
    return (event) => first(event) && second(event)
  }
  if (children.length === 3) {
    const [first, second, third] = children
    return (event) => first(event) && second(event) && third(event)
  }
  return (event) => {
    for (let i = 0; i < children.length; i++) if (!children[i](event)) return false
    return true
  }
}

function compileOr(children: Predicate[]): Predicate {
  if (children.length === 2) {
    const [first, second] = children
    return (event) => first(event) || second(event)
  }
  if (children.length === 3) {
    const [first, second, third] = children
    return (event) => first(event) || second(event) || third(event)
  }
  return (event) => {
    for (let i = 0; i < children.length; i++) if (children[i](event)) return true
    return false
  }
}

/**
 * Orders the operands of `and` or `or` so that the ones most likely to decide the result cheaply
 * come first. The key is the estimated cost divided by the estimated chance that the operand
 * short-circuits (is false under `and`, true under `or`), and equal keys keep the written order. Checks have no
 * side effects and a missing value only makes a check false, so the order changes the time an
 * event takes, never the result. The estimates are guesses from the shape of the condition: a
 * positive check such as `proc.name in (...)` is rarely true, an exception under `not` rarely
 * matches, so `not (...)` is rarely false.
 */
function orderOperands(node: BooleanNode): ConditionNode[] {
  const decidingValue = node.kind === 'or'
  return node.children
    .map((child, index) => {
      const chance = trueChance(child)
      const decisive = decidingValue ? chance : 1 - chance
      return { child, index, rank: estimateCost(child) / Math.max(decisive, MIN_CHANCE) }
    })
    .sort((left, right) => left.rank - right.rank || left.index - right.index)
    .map(({ child }) => child)
}

const MIN_CHANCE = 0.01
/** Guessed chance that a positive check (`=`, `in`, `startswith`...) is true for an event. */
const MATCH_CHANCE = 0.1
/** Guessed chance for checks that are true for most events: `!=`, `exists`, ordering. */
const NON_MATCH_CHANCES: Record<string, number> = { '!=': 0.9, exists: 0.9 }
const ORDER_CHANCE = 0.5
const ORDER_OPERATORS = new Set(['<', '<=', '>', '>='])

const costs = new WeakMap<ConditionNode, number>()
const chances = new WeakMap<ConditionNode, number>()

/** Returns the guessed chance that a node is true, treating operands as independent. */
function trueChance(node: ConditionNode): number {
  const known = chances.get(node)
  if (known !== undefined) return known
  let chance: number
  if (node.kind === 'and') {
    chance = node.children.reduce((product, child) => product * trueChance(child), 1)
  } else if (node.kind === 'or') {
    chance = 1 - node.children.reduce((product, child) => product * (1 - trueChance(child)), 1)
  } else if (node.kind === 'not') {
    chance = 1 - trueChance(node.child)
  } else if (node.kind === 'check') {
    if (ORDER_OPERATORS.has(node.operator)) chance = ORDER_CHANCE
    else chance = NON_MATCH_CHANCES[node.operator] ?? MATCH_CHANCE
  } else {
    chance = ORDER_CHANCE
  }
  chances.set(node, chance)
  return chance
}

/** Returns a rough relative cost of evaluating a node: see OPERATOR_COSTS and FIELD_COSTS. */
function estimateCost(node: ConditionNode): number {
  const known = costs.get(node)
  if (known !== undefined) return known
  let cost: number
  if (node.kind === 'and' || node.kind === 'or') {
    cost = node.children.reduce((total, child) => total + estimateCost(child), 0)
  } else if (node.kind === 'not') {
    cost = estimateCost(node.child)
  } else if (node.kind === 'check') {
    const valueCount = node.quantifier === undefined ? 1 : listLength(node)
    cost = (OPERATOR_COSTS[node.operator] ?? 1) * operandCost(node.left) * valueCount
  } else {
    cost = 1
  }
  costs.set(node, cost)
  return cost
}

/** Relative cost of an operator on one value; equality and set lookups are the unit. */
const OPERATOR_COSTS: Record<string, number> = {
  exists: 0.5,
  startswith: 1.5,
  endswith: 1.5,
  contains: 2,
  bstartswith: 3,
  bcontains: 3,
  pmatch: 3,
  icontains: 4,
  glob: 5,
  iglob: 6,
  regex: 6,
}

/** Fields whose value is derived per event (joined, parsed or collected) cost more to read. */
const FIELD_COSTS: Record<string, number> = {
  'evt.type': 0.5,
  'proc.cmdline': 2,
  'proc.args': 2,
  'proc.pcmdline': 2,
  'evt.args': 3,
  'fd.directory': 1.5,
  'fd.filename': 1.5,
  'fd.ip': 3,
  'fd.net': 3,
  'fd.cnet': 2,
  'fd.snet': 2,
  'fd.lnet': 2,
  'fd.rnet': 2,
  'fd.cip': 2,
  'fd.sip': 2,
  'fd.lip': 2,
  'fd.rip': 2,
  'proc.aname': 4,
  'proc.apid': 4,
  'proc.aexe': 4,
  'proc.aexepath': 4,
  'proc.acmdline': 8,
}
const TRANSFORMER_COST = 4

function operandCost(operand: Operand): number {
  if (operand.kind === 'transformer') return TRANSFORMER_COST
  const cost = FIELD_COSTS[operand.name] ?? 1
  // An ancestor field with an index reads one ancestor, not the whole list.
  return operand.arg !== undefined && cost === 4 ? 1 : cost
}

function listLength(node: CheckNode): number {
  return node.right?.kind === 'list' ? Math.max(1, node.right.values.length) : 1
}
