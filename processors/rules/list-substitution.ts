import type { ListDefinition } from './collector.js'
import { quoteIfSpaced } from './exceptions.js'

/** A list after one level of list references in its items has been expanded. */
export interface ExpandedList {
  name: string
  items: string[]
  pattern: RegExp
}

const DELIMITER_CLASS = '[ \\t\\n\\r(),=]'

/**
 * Expands the list references in list items the way Falco does: an item naming a list whose
 * first definition came before this list's last definition is replaced by that list's items as
 * written (one level only). Items with a space are double-quoted. Returns the lists in
 * first-definition order and marks the referenced ones in `used`.
 */
export function expandLists(lists: ReadonlyMap<string, ListDefinition>, used: Set<string>) {
  const expanded: ExpandedList[] = []
  for (const list of lists.values()) {
    const items: string[] = []
    for (const item of list.items) {
      const reference = lists.get(item)
      if (reference === undefined || reference.index >= list.visibility) {
        items.push(quoteIfSpaced(item))
        continue
      }
      used.add(reference.name)
      items.push(...reference.items.map(quoteIfSpaced))
    }
    const name = escapeRegExp(list.name)
    const pattern = new RegExp(`(?<=^|${DELIMITER_CLASS})${name}(?=$|${DELIMITER_CLASS})`, 'g')
    expanded.push({ name: list.name, items, pattern })
  }
  return expanded
}

/**
 * Replaces every list name in a condition by its items joined with ", ", as plain text and one
 * list at a time in definition order. Quoted strings are not skipped, as in Falco. An empty list
 * also drops one neighbouring comma. Adds the names it replaced to `used`.
 */
export function substituteLists(
  condition: string,
  lists: readonly ExpandedList[],
  used: Set<string>,
): string {
  let text = condition
  for (const list of lists) {
    if (!text.includes(list.name)) continue
    list.pattern.lastIndex = 0
    if (!list.pattern.test(text)) continue
    used.add(list.name)
    list.pattern.lastIndex = 0
    if (list.items.length > 0) {
      const replacement = list.items.join(', ')
      text = text.replace(list.pattern, () => replacement)
    } else {
      text = removeEmptyList(text, list.pattern)
    }
  }
  return text
}

function removeEmptyList(text: string, pattern: RegExp): string {
  let result = text
  for (;;) {
    pattern.lastIndex = 0
    const match = pattern.exec(result)
    if (match === null) return result
    let start = match.index
    let end = start + match[0].length
    const after = /^\s*,/.exec(result.slice(end))
    if (after !== null) {
      end += after[0].length
    } else {
      const before = /,\s*$/.exec(result.slice(0, start))
      if (before !== null) start -= before[0].length
    }
    result = result.slice(0, start) + result.slice(end)
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
