import { RuleError } from '../../core/errors.js'
import type { SyscallEvent } from '../../schemas/types.js'
import type { ConditionNode } from './condition-ast.js'
import { compileCondition } from './condition-compiler.js'
import { formatCondition } from './condition-text.js'
import { perEvent, startEvaluation } from './event-cache.js'
import { hasEventType } from './event-type-set.js'
import type { EventTypeSet } from './event-type-set.js'
import type { LoadProblem, LoadWarningCode } from './load-problem.js'
import type { OutputFieldValue } from './output-format.js'
import { CheckError } from './operators.js'
import type { Predicate } from './operators.js'
import type { CompiledRule } from './rule-compiler.js'
import { specializeForType } from './type-specialization.js'
import type { SpecializedCondition } from './type-specialization.js'

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

/** A rule's condition on its own: for comparing with other engines and for debugging. */
export interface RuleCondition {
  /** The condition with exceptions, lists and macros expanded, as formatCondition() writes it. */
  text: string
  /** Tests one event against this condition alone, whatever the rule order or enabled flag. */
  matches: (event: SyscallEvent) => boolean
}

/** Event types whose candidate lists are cached; past this, lists are computed per event. */
const MAX_CACHED_EVENT_TYPES = 1024
const NO_MATCHES: readonly RuleMatch[] = Object.freeze([])
const ALWAYS: Predicate = () => true

/** A rule that can match events of one type, with its condition simplified for that type. */
interface Candidate {
  rule: CompiledRule
  source: string
  predicate: Predicate
}

/**
 * A compiled rule set. evaluate() runs, in rule order, only the enabled rules whose event types
 * include the event's type, and stops at the first match unless rule matching is `all`.
 */
export class RuleSet {
  readonly rules: ReadonlyArray<RuleInfo>
  readonly warnings: ReadonlyArray<LoadProblem<LoadWarningCode>>
  private readonly compiled: CompiledRule[]
  private readonly candidatesByType = new Map<string, Candidate[]>()

  constructor(
    compiled: CompiledRule[],
    warnings: LoadProblem<LoadWarningCode>[],
    private readonly ruleMatching: RuleMatching = 'first',
    private readonly macros: ReadonlyMap<string, ConditionNode> = new Map(),
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
  evaluate(event: SyscallEvent): readonly RuleMatch[] {
    startEvaluation()
    let matches: RuleMatch[] | undefined
    for (const candidate of this.candidates(event.type)) {
      if (candidate.source !== event.source) continue
      if (!this.matches(candidate, event)) continue
      matches ??= []
      matches.push(this.toMatch(candidate.rule, event))
      if (this.ruleMatching === 'first') break
    }
    return matches ?? NO_MATCHES
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

  /** Returns the condition of the rule named `name`, or undefined when there is no such rule. */
  ruleCondition(name: string): RuleCondition | undefined {
    const rule = this.compiled.find((candidate) => candidate.definition.name === name)
    if (rule === undefined) return undefined
    const predicate = rule.predicate
    return {
      text: formatCondition(rule.condition),
      matches: (event) => {
        startEvaluation()
        return predicate(event)
      },
    }
  }

  /** Returns the names of the macros whose conditions expanded without error. */
  macroNames(): string[] {
    return [...this.macros.keys()]
  }

  /**
   * Returns a macro's condition, expanded like a rule's, or undefined when there is no such macro
   * or its condition does not compile (a field this engine lacks, in a macro no rule uses).
   */
  macroCondition(name: string): RuleCondition | undefined {
    const tree = this.macros.get(name)
    if (tree === undefined) return undefined
    let predicate: Predicate
    try {
      predicate = compileCondition(tree, NO_WARNINGS)
    } catch (error) {
      if (error instanceof CheckError) return undefined
      throw error
    }
    return {
      text: formatCondition(tree),
      matches: (event) => {
        startEvaluation()
        return predicate(event)
      },
    }
  }

  private matches(candidate: Candidate, event: SyscallEvent): boolean {
    try {
      return candidate.predicate(event)
    } catch (error) {
      const ruleId = candidate.rule.definition.name
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

  /**
   * Returns the enabled rules that can match events of `type`, each with its condition
   * specialized for the type (see type-specialization.ts), and caches the list per type.
   */
  private candidates(type: string): Candidate[] {
    const cached = this.candidatesByType.get(type)
    if (cached !== undefined) return cached
    if (this.candidatesByType.size >= MAX_CACHED_EVENT_TYPES) {
      return this.compiled
        .filter((rule) => rule.definition.enabled && hasEventType(rule.eventTypes, type))
        .map((rule) => ({ rule, source: rule.definition.source, predicate: rule.predicate }))
    }
    const specialized = new Map<ConditionNode, SpecializedCondition>()
    const conditions: [CompiledRule, SpecializedCondition][] = []
    for (const rule of this.compiled) {
      if (!rule.definition.enabled || !hasEventType(rule.eventTypes, type)) continue
      const condition = specializeForType(rule.condition, type, specialized)
      if (condition !== false) conditions.push([rule, condition])
    }

    // Every check of a specialized tree is a check of a rule's condition, which compiled at load
    // time, so it compiles the same way again, and its warnings were reported then.
    const predicates = memoizeSharedSubtrees(conditions.map(([, condition]) => condition))
    const candidates = conditions.map(([rule, condition]): Candidate => {
      const predicate =
        condition === true
          ? ALWAYS
          : compileCondition(condition as ConditionNode, NO_WARNINGS, predicates)
      return { rule, source: rule.definition.source, predicate }
    })
    this.candidatesByType.set(type, candidates)
    return candidates
  }
}

const NO_WARNINGS = (): void => {}

/**
 * Compiles the subtrees that several rules share (a macro such as `open_read` or
 * `spawned_process`) into predicates whose result is computed once per event, and returns them
 * keyed by node for compileCondition(). Single checks are left out: reading one field again costs
 * about as much as the cache. Children are compiled before their parents, so a shared parent
 * calls its shared children's cached predicates.
 */
function memoizeSharedSubtrees(conditions: SpecializedCondition[]): Map<ConditionNode, Predicate> {
  const ruleCounts = new Map<ConditionNode, number>()
  const postOrder: ConditionNode[] = []
  for (const condition of conditions) {
    if (typeof condition === 'boolean') continue
    const seen = new Set<ConditionNode>()
    const visit = (node: ConditionNode): void => {
      if (seen.has(node)) return
      seen.add(node)
      if (node.kind === 'and' || node.kind === 'or') node.children.forEach(visit)
      else if (node.kind === 'not') visit(node.child)
      const count = ruleCounts.get(node)
      if (count === undefined) postOrder.push(node)
      ruleCounts.set(node, (count ?? 0) + 1)
    }
    visit(condition)
  }
  const predicates = new Map<ConditionNode, Predicate>()
  for (const node of postOrder) {
    if (node.kind === 'check' || (ruleCounts.get(node) ?? 0) < 2) continue
    predicates.set(node, perEvent(compileCondition(node, NO_WARNINGS, predicates)))
  }
  return predicates
}

function eventTypeList(set: EventTypeSet): string[] | null {
  return set.isComplement ? null : [...set.names].sort()
}

function sortedTags(tags: string[]): string[] {
  return [...tags].sort()
}
