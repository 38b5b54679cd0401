import { isScalar } from 'yaml'
import type { Node } from 'yaml'
import type { SourcePosition } from './load-problem.js'
import type { YamlItem } from './yaml-source.js'

/** Maps a character offset in a condition to its position in the rules file, when it can. */
export type ConditionLocator = (offset: number) => SourcePosition | undefined

const BLANKS = new Set([' ', '\t', '\n', '\r'])

/**
 * Builds the locator of a YAML scalar's value. It walks the value and the source together, so
 * line folding (plain and `>` scalars) and block indentation are followed. An escape sequence in
 * a quoted scalar stops the walk, and the locator then returns undefined.
 */
export function scalarLocator(
  node: Node | null | undefined,
  item: YamlItem,
): ConditionLocator | undefined {
  if (!isScalar(node) || node.range === undefined || node.range === null) return undefined
  const value = String(node.value)
  const source = item.source
  const end = node.range[1]
  let start = node.range[0]
  if (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') start += 1
  if (node.type === 'BLOCK_FOLDED' || node.type === 'BLOCK_LITERAL') {
    start = source.indexOf('\n', start) + 1
  }
  return (offset) => {
    const sourceOffset = alignOffset(value, source, start, end, offset)
    return sourceOffset === undefined ? undefined : item.locateOffset(sourceOffset)
  }
}

/** Joins the locators of two texts joined with one space, as append does. */
export function joinLocators(
  first: ConditionLocator | undefined,
  firstLength: number,
  second: ConditionLocator | undefined,
): ConditionLocator | undefined {
  if (first === undefined || second === undefined) return undefined
  return (offset) => (offset < firstLength ? first(offset) : second(offset - firstLength - 1))
}

function alignOffset(value: string, source: string, start: number, end: number, offset: number) {
  let valueIndex = 0
  let sourceIndex = start
  while (valueIndex < offset) {
    if (sourceIndex >= end) return undefined
    const valueChar = value[valueIndex]
    const sourceChar = source[sourceIndex]
    if (valueChar === sourceChar) {
      valueIndex++
      sourceIndex++
    } else if (valueChar === ' ' && (sourceChar === '\n' || sourceChar === '\r')) {
      // A folded line break: the value has one space where the source breaks and indents.
      valueIndex++
      sourceIndex++
      while (sourceIndex < end && BLANKS.has(source[sourceIndex])) sourceIndex++
    } else if (BLANKS.has(sourceChar)) {
      sourceIndex++
    } else {
      return undefined
    }
  }
  while (
    sourceIndex < end &&
    BLANKS.has(source[sourceIndex]) &&
    source[sourceIndex] !== value[valueIndex]
  ) {
    sourceIndex++
  }
  return sourceIndex
}
