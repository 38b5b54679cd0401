import type { SyscallEvent } from '../../schemas/types.js'
import type { RuleMatch, RuleSet } from './rule-set.js'

/** Totals of a test run of rules over events. */
export interface RuleTestSummary {
  eventsRead: number
  alerts: number
  /** Alerts per rule, in the order the rules first matched. */
  alertsByRule: Map<string, number>
  /** Alerts per priority name (Warning, Notice...). */
  alertsByPriority: Map<string, number>
}

/** Receives each match of a run with its event and the event's 0-based position in the input. */
export type MatchHandler = (match: RuleMatch, event: SyscallEvent, index: number) => void

/**
 * Evaluates a rule set on every event of `events`, in order, passing each match to `onMatch`, and
 * returns the totals. Stops early, with the totals so far, when `signal` aborts.
 */
export async function runRulesOnEvents(
  ruleSet: RuleSet,
  events: AsyncIterable<SyscallEvent> | Iterable<SyscallEvent>,
  onMatch: MatchHandler = () => {},
  signal?: AbortSignal,
): Promise<RuleTestSummary> {
  const summary: RuleTestSummary = {
    eventsRead: 0,
    alerts: 0,
    alertsByRule: new Map(),
    alertsByPriority: new Map(),
  }
  for await (const event of events) {
    if (signal?.aborted === true) break
    const index = summary.eventsRead++
    for (const match of ruleSet.evaluate(event)) {
      summary.alerts++
      increment(summary.alertsByRule, match.rule)
      increment(summary.alertsByPriority, match.priority)
      onMatch(match, event, index)
    }
  }
  return summary
}

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1)
}
