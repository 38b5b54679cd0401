import type { ConditionNode } from './condition-ast.js'

/**
 * Set of event type names that may be infinite. With `isComplement` it contains every type except
 * `names`, so "all types" is the complement of the empty set.
 */
export interface EventTypeSet {
  isComplement: boolean
  names: ReadonlySet<string>
}

const ALL: EventTypeSet = { isComplement: true, names: new Set() }
const EQUALITY_OPERATORS = new Set(['=', '==', 'in', 'intersects'])

/**
 * Returns the event types for which a macro-free condition can be true. Each node is read as two
 * sets: the types where it can be true and the types where it can be false. `not` swaps them, so
 * the result stays correct under negation. A check that does not test evt.type can be true or
 * false for every type.
 */
export function conditionEventTypes(node: ConditionNode): EventTypeSet {
  return possibleOutcomes(node, new Map()).whenTrue
}

/** Returns how many types a set contains, or Infinity for a complement. */
export function eventTypeCount(set: EventTypeSet): number {
  return set.isComplement ? Infinity : set.names.size
}

/** Returns whether an event type is in a set. */
export function hasEventType(set: EventTypeSet, type: string): boolean {
  return set.names.has(type) !== set.isComplement
}

interface Outcomes {
  whenTrue: EventTypeSet
  whenFalse: EventTypeSet
}

/** Computes the outcomes of a node once, even when macro expansion shares it. */
function possibleOutcomes(node: ConditionNode, known: Map<ConditionNode, Outcomes>): Outcomes {
  const cached = known.get(node)
  if (cached !== undefined) return cached
  const outcomes = nodeOutcomes(node, known)
  known.set(node, outcomes)
  return outcomes
}

function nodeOutcomes(node: ConditionNode, known: Map<ConditionNode, Outcomes>): Outcomes {
  switch (node.kind) {
    case 'not': {
      const child = possibleOutcomes(node.child, known)
      return { whenTrue: child.whenFalse, whenFalse: child.whenTrue }
    }
    case 'and':
    case 'or': {
      const children = node.children.map((child) => possibleOutcomes(child, known))
      const trues = children.map((child) => child.whenTrue)
      const falses = children.map((child) => child.whenFalse)
      if (node.kind === 'and') return { whenTrue: intersectAll(trues), whenFalse: uniteAll(falses) }
      return { whenTrue: uniteAll(trues), whenFalse: intersectAll(falses) }
    }
    case 'check':
      return checkOutcomes(node)
    case 'macro':
      return { whenTrue: ALL, whenFalse: ALL }
  }
}

function checkOutcomes(node: Extract<ConditionNode, { kind: 'check' }>): Outcomes {
  const isEventType = node.left.kind === 'field' && node.left.name === 'evt.type' && !node.left.arg
  const right = node.right
  if (!isEventType || right === undefined || right.kind === 'fieldValue' || node.quantifier) {
    return { whenTrue: ALL, whenFalse: ALL }
  }
  const values = right.kind === 'list' ? right.values.map((value) => value.value) : [right.value]
  const named: EventTypeSet = { isComplement: false, names: new Set(values) }
  const others: EventTypeSet = { isComplement: true, names: new Set(values) }
  if (EQUALITY_OPERATORS.has(node.operator)) return { whenTrue: named, whenFalse: others }
  if (node.operator === '!=') return { whenTrue: others, whenFalse: named }
  return { whenTrue: ALL, whenFalse: ALL }
}

function intersectAll(sets: EventTypeSet[]): EventTypeSet {
  return sets.reduce(intersect)
}

function uniteAll(sets: EventTypeSet[]): EventTypeSet {
  return sets.reduce(unite)
}

function intersect(left: EventTypeSet, right: EventTypeSet): EventTypeSet {
  if (left.isComplement && right.isComplement) {
    return { isComplement: true, names: new Set([...left.names, ...right.names]) }
  }
  if (left.isComplement) return intersect(right, left)
  const names = [...left.names].filter((name) => hasEventType(right, name))
  return { isComplement: false, names: new Set(names) }
}

function unite(left: EventTypeSet, right: EventTypeSet): EventTypeSet {
  if (!left.isComplement && !right.isComplement) {
    return { isComplement: false, names: new Set([...left.names, ...right.names]) }
  }
  if (!left.isComplement) return unite(right, left)
  const names = [...left.names].filter((name) => !hasEventType(right, name))
  return { isComplement: true, names: new Set(names) }
}
