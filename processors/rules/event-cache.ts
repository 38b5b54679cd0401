import type { SyscallEvent } from '../../schemas/types.js'

/**
 * Evaluation counter: RuleSet.evaluate() starts a new evaluation for every event, so a value
 * cached for an event object that the caller changed in place between two calls is recomputed.
 */
const evaluation = { id: 0 }

/** Starts a new evaluation; values cached by perEvent() accessors are then stale. */
export function startEvaluation(): void {
  evaluation.id++
}

/**
 * Wraps a derived value (a command line, an ancestor list, parsed open flags) so it is computed
 * at most once per event, however many rules read it. The cache holds one event: evaluation is
 * synchronous, so all rules read one event before the next one comes.
 */
export function perEvent<T>(compute: (event: SyscallEvent) => T): (event: SyscallEvent) => T {
  let cachedEvent: SyscallEvent | undefined
  let cachedEvaluation = -1
  let cachedValue: T | undefined
  return (event) => {
    if (event === cachedEvent && cachedEvaluation === evaluation.id) return cachedValue as T
    const value = compute(event)
    cachedValue = value
    cachedEvent = event
    cachedEvaluation = evaluation.id
    return value
  }
}
