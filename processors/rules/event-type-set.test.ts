import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { parse } from 'yaml'
import { parseCondition } from './condition-parser.js'
import { syscallEvent } from './event-fixture.js'
import { compileCondition } from './condition-compiler.js'
import { conditionEventTypes, hasEventType } from './event-type-set.js'
import { loadRuleSet } from './load-rule-set.js'
import { upstreamPath } from '../../tests/support/upstream.js'

const FALCO_TESTS = upstreamPath('falco-tests')
const skipUpstream = existsSync(FALCO_TESTS) ? false : `upstream data not found at ${FALCO_TESTS}`
if (skipUpstream !== false) console.log(`# skipping event type oracle tests: ${skipUpstream}`)

function typesOf(condition: string): string[] | 'all' {
  const set = conditionEventTypes(parseCondition(condition))
  return set.isComplement ? 'all' : [...set.names].sort()
}

describe('event types of a condition', () => {
  it('come from equality and in checks on evt.type', () => {
    assert.deepEqual(typesOf('evt.type = open'), ['open'])
    assert.deepEqual(typesOf('evt.type in (open, openat) and proc.name = cat'), ['open', 'openat'])
    assert.deepEqual(typesOf('evt.type = open or evt.type = connect'), ['connect', 'open'])
  })

  it('are all types when the condition does not constrain evt.type', () => {
    assert.equal(typesOf('proc.name = cat'), 'all')
    assert.equal(typesOf('evt.type = open or proc.name = cat'), 'all')
    assert.equal(typesOf('evt.type startswith open'), 'all')
  })

  it('stay correct under negation', () => {
    assert.equal(typesOf('not evt.type = open'), 'all')
    assert.equal(typesOf('evt.type != open'), 'all')
    assert.equal(typesOf('not (evt.type = open and proc.name = cat)'), 'all')
    assert.deepEqual(typesOf('not (evt.type != open or proc.name = cat)'), ['open'])
    assert.deepEqual(typesOf('evt.type in (open, close) and not evt.type = close'), ['open'])
    assert.deepEqual(typesOf('not not evt.type = open'), ['open'])
  })

  it('intersect across and', () => {
    assert.deepEqual(typesOf('evt.type in (open, close) and evt.type in (close, read)'), ['close'])
    assert.deepEqual(typesOf('evt.type = open and evt.type = close'), [])
  })
})

describe('event type index against Falco expectations', { skip: skipUpstream }, () => {
  const rulesFile = join(FALCO_TESTS, 'rules', 'falco_rules_warnings.yaml')
  const expectations = readExpectations()
  const ruleSet = loadRuleSet([rulesFile], { ruleMatching: 'all' })

  it('matches the types Falco lists', () => {
    for (const rule of ruleSet.rules) {
      const expected = expectations.get(rule.name)
      if (expected === undefined) continue
      if (expected.includes('all')) continue

      assert.deepEqual(rule.eventTypes, [...expected].sort(), rule.name)
    }
  })

  it('never leaves out a type on which the condition is true', () => {
    const items = parse(readFileSync(rulesFile, 'utf8')) as { rule?: string; condition?: string }[]
    const events = ['execve', 'open', 'connect', 'openat', 'close'].flatMap((type) =>
      ['foo', 'bar'].map((name) => syscallEvent({ type, proc: { name } })),
    )
    for (const item of items) {
      if (item.condition === undefined) continue
      const tree = parseCondition(item.condition)
      const predicate = compileCondition(tree, () => {})
      const eventTypes = conditionEventTypes(tree)
      for (const event of events) {
        if (!predicate(event)) continue

        assert.ok(hasEventType(eventTypes, event.type), `${item.rule} on ${event.type}`)
      }
    }
  })
})

function readExpectations(): Map<string, string[]> {
  const text = readFileSync(join(FALCO_TESTS, 'falco_tests.yaml'), 'utf8')
  const mux = { tag: '!mux', collection: 'map' as const, resolve: (value: unknown) => value }
  const document = parse(text, { customTags: [mux] }) as {
    trace_files: { test_warnings: { rules_events: Record<string, string[]>[] } }
  }
  const entries = document.trace_files.test_warnings.rules_events.flatMap(Object.entries)
  return new Map(entries)
}
