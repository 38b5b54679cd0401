import type { ConditionNode } from './condition-ast.js'

/**
 * Nesting depth of a condition after macro expansion past which it is rejected. Evaluation
 * recurses once per level, so this bounds the stack a rule needs.
 */
export const MAX_EXPANDED_DEPTH = 2000

/** A macro after parsing; `tree` is undefined when its condition did not parse. */
export interface ParsedMacro {
  name: string
  index: number
  visibility: number
  tree?: ConditionNode
}

/** A macro reference that cannot be resolved: undefined, looping, or broken itself. */
export class MacroResolutionError extends Error {
  constructor(
    readonly reason: 'undefined' | 'loop' | 'broken' | 'depth',
    readonly macroName: string,
    message: string,
  ) {
    super(message)
  }
}

/**
 * Replaces macro references by the macros' trees, recursively. A reference made from a macro
 * can use only macros whose first definition precedes that macro's last definition
 * (`visibilityLimit`). Rules pass Infinity and can use every macro. Adds each resolved name to
 * `used`. Throws MacroResolutionError.
 */
export function expandMacros(
  node: ConditionNode,
  macros: ReadonlyMap<string, ParsedMacro>,
  visibilityLimit: number,
  used: Set<string>,
  stack: string[] = [],
  cache: Map<string, ConditionNode> = new Map(),
): ConditionNode {
  const expanded = expandNode(node, { macros, used, cache }, visibilityLimit, stack)
  if (stack.length <= 1 && treeDepth(expanded) > MAX_EXPANDED_DEPTH) {
    const message = `condition nests deeper than ${MAX_EXPANDED_DEPTH} levels once macros are expanded`
    throw new MacroResolutionError('depth', stack[0] ?? '', message)
  }
  return expanded
}

/**
 * State shared by one expansion. `cache` maps a macro to its expanded tree, which depends only on
 * the macro, so a macro used many times is expanded once and its tree is shared.
 */
interface Expansion {
  macros: ReadonlyMap<string, ParsedMacro>
  used: Set<string>
  cache: Map<string, ConditionNode>
}

function expandNode(
  node: ConditionNode,
  expansion: Expansion,
  visibilityLimit: number,
  stack: string[],
): ConditionNode {
  switch (node.kind) {
    case 'check':
      return node
    case 'not':
      return { kind: 'not', child: expandNode(node.child, expansion, visibilityLimit, stack) }
    case 'and':
    case 'or':
      return {
        kind: node.kind,
        children: node.children.map((child) =>
          expandNode(child, expansion, visibilityLimit, stack),
        ),
      }
    case 'macro':
      return expandReference(node.name, expansion, visibilityLimit, stack)
  }
}

function expandReference(
  name: string,
  expansion: Expansion,
  visibilityLimit: number,
  stack: string[],
): ConditionNode {
  const macro = expansion.macros.get(name)
  if (macro === undefined || macro.index >= visibilityLimit) {
    throw new MacroResolutionError('undefined', name, `Undefined macro '${name}' used in filter.`)
  }
  expansion.used.add(name)
  const cached = expansion.cache.get(name)
  if (cached !== undefined) return cached
  if (stack.includes(name)) {
    const cycle = [...stack.slice(stack.indexOf(name)), name].join(' -> ')
    throw new MacroResolutionError('loop', name, `reference loop in macro '${name}': ${cycle}`)
  }
  if (macro.tree === undefined) {
    throw new MacroResolutionError('broken', name, `macro '${name}' has an invalid condition`)
  }
  const expanded = expandNode(macro.tree, expansion, macro.visibility, [...stack, name])
  expansion.cache.set(name, expanded)
  return expanded
}

/** Returns the nesting depth of a tree whose subtrees may be shared, without recursion. */
function treeDepth(root: ConditionNode): number {
  const depths = new Map<ConditionNode, number>()
  const pending: [ConditionNode, boolean][] = [[root, false]]
  while (pending.length > 0) {
    const [node, areChildrenDone] = pending.pop() as [ConditionNode, boolean]
    if (depths.has(node)) continue
    const children = childrenOf(node)
    if (areChildrenDone) {
      depths.set(node, 1 + Math.max(0, ...children.map((child) => depths.get(child) ?? 0)))
      continue
    }
    pending.push([node, true])
    for (const child of children) if (!depths.has(child)) pending.push([child, false])
  }
  return depths.get(root) ?? 0
}

function childrenOf(node: ConditionNode): ConditionNode[] {
  if (node.kind === 'not') return [node.child]
  if (node.kind === 'and' || node.kind === 'or') return node.children
  return []
}
