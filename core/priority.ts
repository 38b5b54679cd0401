/** Falco's priorities from most to least severe, as its JSON alerts print them. */
export const PRIORITY_NAMES = [
  'Emergency',
  'Alert',
  'Critical',
  'Error',
  'Warning',
  'Notice',
  'Informational',
  'Debug',
] as const

export type PriorityName = (typeof PRIORITY_NAMES)[number]

/**
 * Returns the severity rank of a priority name, 0 for Emergency up to 7 for Debug, ignoring case and
 * accepting Falco's alias `info`. Returns undefined for anything else.
 */
export function priorityRank(name: string): number | undefined {
  const lower = name.trim().toLowerCase()
  const rank = PRIORITY_NAMES.findIndex((priority) => priority.toLowerCase() === lower)
  if (rank >= 0) return rank
  return lower === 'info' ? PRIORITY_NAMES.indexOf('Informational') : undefined
}

/**
 * Tells whether `priority` is at least as severe as `minimum`. An unknown priority counts as
 * passing, so an alert with a priority this build does not know is delivered rather than lost.
 */
export function meetsMinimumPriority(priority: string, minimum: string): boolean {
  const rank = priorityRank(priority)
  const minimumRank = priorityRank(minimum) ?? PRIORITY_NAMES.length - 1
  return rank === undefined || rank <= minimumRank
}
