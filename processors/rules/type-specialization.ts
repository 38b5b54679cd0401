import type { CheckNode, ConditionNode } from './condition-ast.js'

/** A condition simplified for one event type: a smaller tree, or a constant. */
export type SpecializedCondition = ConditionNode | boolean

const EQUALITY_OPERATORS = new Set(['=', '==', 'in', 'intersects'])

/**
 * Simplifies a macro-free condition for events of one type: every check of evt.type becomes
 * true or false, and `and`, `or` and `not` fold around those constants. A rule such as
 * `(open_write or open_read) and ...` then runs only the branch its event type can take.
 * Unchanged subtrees are returned as they are, and results are memoized per node in `memo`, so
 * subtrees that macro expansion shares stay shared. The memo must hold results for one type only.
 */
export function specializeForType(
  node: ConditionNode,
  type: string,
  memo: Map<ConditionNode, SpecializedCondition>,
): SpecializedCondition {
  const known = memo.get(node)
  if (known !== undefined) return known
  const result = specializeNode(node, type, memo)
  memo.set(node, result)
  return result
}

function specializeNode(
  node: ConditionNode,
  type: string,
  memo: Map<ConditionNode, SpecializedCondition>,
): SpecializedCondition {
  switch (node.kind) {
    case 'check':
      return eventTypeOutcome(node, type) ?? node
    case 'macro':
      return node
    case 'not': {
      const child = specializeForType(node.child, type, memo)
      if (typeof child === 'boolean') return !child
      return child === node.child ? node : { kind: 'not', child }
    }
    case 'and':
    case 'or': {
      // A false child decides an `and` and a true child is dropped, and `or` is the reverse.
      const decisive = node.kind === 'or'
      const children: ConditionNode[] = []
      let isChanged = false
      for (const child of node.children) {
        const specialized = specializeForType(child, type, memo)
        if (typeof specialized === 'boolean') {
          if (specialized === decisive) return decisive
          isChanged = true
          continue
        }
        if (specialized !== child) isChanged = true
        children.push(specialized)
      }
      if (children.length === 0) return !decisive
      if (children.length === 1) return children[0]
      return isChanged ? { kind: node.kind, children } : node
    }
  }
}

/** Returns the value of an evt.type check for events of `type`, or undefined for other checks. */
function eventTypeOutcome(node: CheckNode, type: string): boolean | undefined {
  const { left, right } = node
  if (left.kind !== 'field' || left.name !== 'evt.type' || left.arg !== undefined) return undefined
  if (right === undefined || right.kind === 'fieldValue' || node.quantifier !== undefined) {
    return undefined
  }
  const values = right.kind === 'list' ? right.values : [right]
  const isListed = values.some((value) => value.value === type)
  if (EQUALITY_OPERATORS.has(node.operator)) return isListed
  if (node.operator === '!=' && right.kind !== 'list') return !isListed
  return undefined
}
