import type { RuleSet } from '../../processors/rules/index.js'
import { META_EVENT_TYPES, runSysdigEvents } from './sysdig-filter.js'
import type { PrintedEvent } from './sysdig-filter.js'

/** A rule's alert count derived with sysdig, over all events and over Peregrine's events. */
export interface DerivedCount {
  /** Enter and exit events, as Falco before 0.42 evaluated them. */
  allEvents: number
  /** Exit events and meta events only, as Peregrine reads a capture. */
  exitEvents: number
}

const runs = new Map<string, Promise<PrintedEvent[]>>()

/**
 * Derives per-rule alert counts for a trace with sysdig: each enabled rule's expanded condition
 * runs as a filter, and each event counts for the first enabled rule, in rule order, whose filter
 * selects it (Falco's default rule_matching: first). Throws when sysdig rejects a condition.
 */
export async function adjustedCounts(
  trace: string,
  ruleSet: RuleSet,
): Promise<Map<string, DerivedCount>> {
  const matchesByRule: { name: string; events: PrintedEvent[] }[] = []
  for (const rule of ruleSet.rules) {
    if (!rule.enabled) continue
    const condition = ruleSet.ruleCondition(rule.name)?.text ?? ''
    matchesByRule.push({ name: rule.name, events: await sysdigEvents(trace, condition) })
  }

  const counts = new Map<string, DerivedCount>()
  for (const { name } of matchesByRule) counts.set(name, { allEvents: 0, exitEvents: 0 })
  const claimed = new Set<number>()
  for (const { name, events } of matchesByRule) {
    const count = counts.get(name) as DerivedCount
    for (const event of events) {
      if (claimed.has(event.num)) continue
      claimed.add(event.num)
      count.allEvents++
      if (event.dir === '<' || META_EVENT_TYPES.has(event.type)) count.exitEvents++
    }
  }
  return counts
}

function sysdigEvents(trace: string, condition: string): Promise<PrintedEvent[]> {
  const key = `${trace}\n${condition}`
  let run = runs.get(key)
  if (run === undefined) {
    run = runSysdigEvents(trace, condition).then((result) => {
      if ('error' in result) throw new Error(`sysdig rejected '${condition}': ${result.error}`)
      return result.events
    })
    runs.set(key, run)
  }
  return run
}
