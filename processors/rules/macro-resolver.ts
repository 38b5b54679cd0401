import type { ConditionNode } from './condition-ast.js'

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
    readonly reason: 'undefined' | 'loop' | 'broken',
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
): ConditionNode {
  switch (node.kind) {
    case 'check':
      return node
    case 'not':
      return { kind: 'not', child: expandMacros(node.child, macros, visibilityLimit, used, stack) }
    case 'and':
    case 'or':
      return {
        kind: node.kind,
        children: node.children.map((child) =>
          expandMacros(child, macros, visibilityLimit, used, stack),
        ),
      }
    case 'macro':
      return expandReference(node.name, macros, visibilityLimit, used, stack)
  }
}

function expandReference(
  name: string,
  macros: ReadonlyMap<string, ParsedMacro>,
  visibilityLimit: number,
  used: Set<string>,
  stack: string[],
): ConditionNode {
  const macro = macros.get(name)
  if (macro === undefined || macro.index >= visibilityLimit) {
    throw new MacroResolutionError('undefined', name, `Undefined macro '${name}' used in filter.`)
  }
  used.add(name)
  if (stack.includes(name)) {
    const cycle = [...stack.slice(stack.indexOf(name)), name].join(' -> ')
    throw new MacroResolutionError('loop', name, `reference loop in macro '${name}': ${cycle}`)
  }
  if (macro.tree === undefined) {
    throw new MacroResolutionError('broken', name, `macro '${name}' has an invalid condition`)
  }
  return expandMacros(macro.tree, macros, macro.visibility, used, [...stack, name])
}
