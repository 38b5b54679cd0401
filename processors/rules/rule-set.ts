import { RuleError } from '../../core/errors.js'
import type { SyscallEvent } from '../../schemas/types.js'
import { hasEventType } from './event-type-set.js'
import type { EventTypeSet } from './event-type-set.js'
import type { LoadProblem, LoadWarningCode } from './load-problem.js'
import type { OutputFieldValue } from './output-format.js'
import type { CompiledRule } from './rule-compiler.js'

/** One rule that matched an event, shaped like the rule part of Falco's JSON alert. */
export interface RuleMatch {
  rule: string
  /** Falco's printable priority: Emergency, Alert, Critical, Error, Warning, Notice, ... */
  priority: string
  /** The rule's output with every token filled in and escaped: always one line. */
  output: string
  outputFields: Record<string, OutputFieldValue>
  /** The rule's tags, sorted as Falco stores them. */
  tags: string[]
  source: string
}

/** Summary of a loaded rule. */
export interface RuleInfo {
  name: string
  priority: string
  tags: string[]
  source: string
  enabled: boolean
  /** Event types the rule can match, sorted; null when it can match any type. */
  eventTypes: string[] | null
}

export type RuleMatching = 'first' | 'all'

/** Event types whose candidate lists are cached; past this, lists are computed per event. */
const MAX_CACHED_EVENT_TYPES = 1024

/**
 * A compiled rule set. evaluate() runs, in rule order, only the enabled rules whose event types
 * include the event's type, and stops at the first match unless rule matching is `all`.
 */
export class RuleSet {
  readonly rules: ReadonlyArray<RuleInfo>
  readonly warnings: ReadonlyArray<LoadProblem<LoadWarningCode>>
  private readonly compiled: CompiledRule[]
  private readonly candidatesByType = new Map<string, CompiledRule[]>()

  constructor(
    compiled: CompiledRule[],
    warnings: LoadProblem<LoadWarningCode>[],
    private readonly ruleMatching: RuleMatching = 'first',
  ) {
    this.compiled = compiled
    this.warnings = warnings
    this.rules = compiled.map(({ definition, eventTypes }) => ({
      name: definition.name,
      priority: definition.priority,
      tags: sortedTags(definition.tags),
      source: definition.source,
      enabled: definition.enabled,
      eventTypes: eventTypeList(eventTypes),
    }))
  }

  /**
   * Returns the matches of one event in rule order. Throws RuleError (evaluation) when a rule
   * fails on the event, naming the rule, with the original error as cause.
   */
  evaluate(event: SyscallEvent): RuleMatch[] {
    const matches: RuleMatch[] = []
    for (const rule of this.candidates(event.type)) {
      if (rule.definition.source !== event.source) continue
      if (!this.matches(rule, event)) continue
      matches.push(this.toMatch(rule, event))
      if (this.ruleMatching === 'first') break
    }
    return matches
  }

  /**
   * Returns the event types the enabled rules can match, sorted, so a probe can filter in the
   * kernel, or null when some enabled rule can match any type.
   */
  eventTypes(): string[] | null {
    const types = new Set<string>()
    for (const rule of this.compiled) {
      if (!rule.definition.enabled) continue
      const list = eventTypeList(rule.eventTypes)
      if (list === null) return null
      for (const type of list) types.add(type)
    }
    return [...types].sort()
  }

  private matches(rule: CompiledRule, event: SyscallEvent): boolean {
    try {
      return rule.predicate(event)
    } catch (error) {
      const ruleId = rule.definition.name
      throw new RuleError(`evaluating rule '${ruleId}' failed`, {
        evaluation: true,
        cause: error,
        context: { ruleId },
      })
    }
  }

  private toMatch(rule: CompiledRule, event: SyscallEvent): RuleMatch {
    const { definition } = rule
    const output = rule.output.format(event)
    return {
      rule: definition.name,
      priority: definition.priority,
      output: output.text,
      outputFields: output.fields,
      tags: sortedTags(definition.tags),
      source: definition.source,
    }
  }

  private candidates(type: string): CompiledRule[] {
    const cached = this.candidatesByType.get(type)
    if (cached !== undefined) return cached
    const candidates = this.compiled.filter(
      (rule) => rule.definition.enabled && hasEventType(rule.eventTypes, type),
    )
    if (this.candidatesByType.size < MAX_CACHED_EVENT_TYPES)
      this.candidatesByType.set(type, candidates)
    return candidates
  }
}

function eventTypeList(set: EventTypeSet): string[] | null {
  return set.isComplement ? null : [...set.names].sort()
}

function sortedTags(tags: string[]): string[] {
  return [...tags].sort()
}
