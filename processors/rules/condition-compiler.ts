import type { CheckNode, ConditionNode, LiteralValue, Operand } from './condition-ast.js'
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
      return compileAnd(node.children.map((child) => compileCondition(child, warn, compiled)))
    case 'or':
      return compileOr(node.children.map((child) => compileCondition(child, warn, compiled)))
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
  return { accessor: field.accessor, type: field.type, text }
}

function compileCheck(node: CheckNode, warn: CompileWarning): Predicate {
  const left = compileOperand(node.left, warn)
  const right = compileRight(node, warn)
  if (right?.kind === 'values') {
    if (right.values.includes(NOT_AVAILABLE)) {
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
  return (event) => {
    for (const child of children) if (!child(event)) return false
    return true
  }
}

function compileOr(children: Predicate[]): Predicate {
  if (children.length === 2) {
    const [first, second] = children
    return (event) => first(event) || second(event)
  }
  return (event) => {
    for (const child of children) if (child(event)) return true
    return false
  }
}
