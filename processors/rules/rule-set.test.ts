import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { SyscallEvent } from '../../schemas/types.js'
import { loadRulesText, syscallEvent } from './event-fixture.js'
import type { EventOverrides } from './event-fixture.js'
import { GeneratorSource } from '../../producer/generator-source.js'
import { loadRuleSet } from './load-rule-set.js'
import { upstreamPath } from '../../tests/support/upstream.js'

const RULES_DIR = upstreamPath('falco-rules')
const skipUpstream = existsSync(RULES_DIR) ? false : `upstream rules not found at ${RULES_DIR}`
if (skipUpstream !== false) console.log(`# skipping random event tests: ${skipUpstream}`)

const ODD_TEXTS = [
  '',
  ' ',
  '<NA>',
  '\u0000',
  '\uD800',
  '../../etc/shadow',
  'a'.repeat(5000),
  'é漢🚀',
  '-1',
]
const TYPES = [
  'execve',
  'openat',
  'open',
  'connect',
  'accept',
  'sendto',
  'setuid',
  'ptrace',
  'unlinkat',
  'chmod',
  'symlinkat',
  'bpf',
  'container',
  'procexit',
  'read',
  'unknown_type',
]

function bigintText(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value
}

/** Returns a seeded pseudo-random generator, so a failure can be replayed. */
function randomGenerator(seed: number): () => number {
  let state = seed
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648
    return state / 2147483648
  }
}

function randomEvent(random: () => number): SyscallEvent {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]
  const text = () =>
    random() < 0.5 ? pick(ODD_TEXTS) : pick(['bash', 'sh', 'nginx', '/usr/bin/x', '/dev/x'])
  const maybe = <T>(value: T): T | null => (random() < 0.3 ? null : value)
  const overrides: EventOverrides = {
    type: pick(TYPES),
    res: maybe(pick([0, -2, 3, 2 ** 40])),
    args: {
      flags: pick(['O_RDONLY', 'O_WRONLY|O_CREAT', '577(O_RDWR)', text()]),
      name: text(),
      request: text(),
    },
    raw_args: { res: pick(['-1', '0', text()]), flags: pick(['1', '65', text()]) },
    proc: {
      name: text(),
      exe: maybe(text()),
      exepath: maybe(text()),
      args: [text(), text()],
      tty: maybe(pick([0, 34816, 2n ** 62n])),
      vpid: maybe(1),
      vpgid: maybe(1),
      start_ts_ns: maybe(0),
    },
    ancestors:
      random() < 0.2
        ? []
        : [{ pid: 1, name: text(), exe: maybe(text()), exepath: null, args: [text()] }],
    user: { uid: pick([0, 1000, 4294967295]), name: maybe(text()), loginuid: maybe(-1) },
    fd:
      random() < 0.3
        ? null
        : {
            type: pick(['file', 'directory', 'ipv4', 'ipv6', 'unix', 'pipe']),
            name: text(),
            cip: maybe(pick(['10.0.0.1', '::1', 'not-an-ip'])),
            sip: maybe(pick(['127.0.0.1', '2001:db8::1'])),
            sport: maybe(pick([0, 53, 443])),
            is_server: maybe(random() < 0.5),
          },
    container:
      random() < 0.5
        ? null
        : { privileged: maybe(true), labels: random() < 0.5 ? {} : { a: text() } },
  }
  return syscallEvent(overrides)
}

describe('rule set', () => {
  it('runs only the rules of the event type', () => {
    const ruleSet = loadRulesText(
      `
- rule: Opens
  desc: d
  condition: evt.type = openat
  output: open
  priority: INFO
- rule: Anything
  desc: d
  condition: proc.name exists
  output: any
  priority: INFO
  warn_evttypes: false
`,
      { ruleMatching: 'all' },
    )

    const onOpen = ruleSet.evaluate(syscallEvent({ type: 'openat' })).map((match) => match.rule)
    const onClose = ruleSet.evaluate(syscallEvent({ type: 'close' })).map((match) => match.rule)

    assert.deepEqual(onOpen, ['Opens', 'Anything'])
    assert.deepEqual(onClose, ['Anything'])
    assert.equal(ruleSet.eventTypes(), null)
  })

  it('reports the union of event types', () => {
    const ruleSet = loadRulesText(`
- rule: A
  desc: d
  condition: evt.type in (openat, open)
  output: o
  priority: INFO
- rule: B
  desc: d
  condition: evt.type = execve
  output: o
  priority: INFO
`)

    assert.deepEqual(ruleSet.eventTypes(), ['execve', 'open', 'openat'])
  })

  it('evaluates only rules of the event source', () => {
    const ruleSet = loadRulesText(`
- rule: A
  desc: d
  condition: evt.type = openat
  output: o
  priority: INFO
`)

    assert.equal(ruleSet.evaluate(syscallEvent({ source: 'k8s_audit' })).length, 0)
  })

  const files = [
    'falco_rules.yaml',
    'falco-incubating_rules.yaml',
    'falco-sandbox_rules.yaml',
    'legacy/falco_rules.yaml',
  ]
  for (const file of files) {
    it(`matches as each rule's own condition does with ${file}`, { skip: skipUpstream }, () => {
      const ruleSet = loadRuleSet([join(RULES_DIR, file)], { ruleMatching: 'all' })
      const conditions = ruleSet.rules
        .filter((rule) => rule.enabled)
        .map((rule) => ({ name: rule.name, condition: ruleSet.ruleCondition(rule.name) }))
      const random = randomGenerator(11)
      const generator = new GeneratorSource({ count: 2000, hostname: 'h', suspiciousRatio: 0.2 })
      const events = [
        ...Array.from({ length: 2000 }, (_, index) => generator.makeEvent(index, random)),
        ...Array.from({ length: 2000 }, () => randomEvent(random)),
      ]

      let matchCount = 0
      for (const event of events) {
        const matched = ruleSet.evaluate(event).map((match) => match.rule)
        const expected = conditions
          .filter(({ condition }) => condition?.matches(event) === true)
          .map(({ name }) => name)
        matchCount += matched.length
        assert.deepEqual(matched, expected, `event ${JSON.stringify(event, bigintText)}`)
      }
      assert.ok(matchCount > 0, 'no event matched any rule, so the comparison proves nothing')
    })

    it(`evaluates random events with ${file}`, { skip: skipUpstream }, () => {
      const ruleSet = loadRuleSet([join(RULES_DIR, file)], { ruleMatching: 'all' })
      const random = randomGenerator(7)

      for (let i = 0; i < 500; i++) {
        const event = randomEvent(random)
        for (const match of ruleSet.evaluate(event)) {
          assert.equal(match.output.includes('\n'), false)
          assert.equal(typeof match.outputFields, 'object')
        }
      }
    })
  }
})
