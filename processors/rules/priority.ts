import { PRIORITY_NAMES } from '../../core/priority.js'
import type { PriorityName } from '../../core/priority.js'

export { PRIORITY_NAMES } from '../../core/priority.js'
export type { PriorityName } from '../../core/priority.js'

const PRIORITY_BY_LOWER_CASE = new Map<string, PriorityName>([
  ...PRIORITY_NAMES.map((name) => [name.toLowerCase(), name] as [string, PriorityName]),
  ['info', 'Informational'],
])

/**
 * Returns the printable priority for a name in any letter case (`WARNING`, `warning`, `info`), or
 * undefined when the name is not a Falco priority.
 */
export function parsePriority(text: string): PriorityName | undefined {
  return PRIORITY_BY_LOWER_CASE.get(text.toLowerCase())
}

/** Returns the severity rank of a priority: 0 for Emergency up to 7 for Debug. */
export function priorityRank(priority: PriorityName): number {
  return PRIORITY_NAMES.indexOf(priority)
}
