import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { sysdigSkipReason } from '../../tests/conformance/sysdig-filter.js'
import { runPeregrine, scratchFile } from '../../tests/support/peregrine-command.js'
import { missingUpstream, upstreamPath } from '../../tests/support/upstream.js'

/** Falco's capture of `cat /dev/null`: 42 events, four of them opens by cat. */
const CAT_WRITE_CAPTURE = upstreamPath('traces', 'falco', 'cat_write.scap')

const RULES = `- macro: is_cat
  condition: proc.name = cat

- rule: Open by cat
  desc: cat opens a file
  condition: evt.type = openat and is_cat
  output: cat opened %fd.name (command=%proc.cmdline)
  priority: WARNING
  tags: [filesystem, demo]

- rule: Exec of ls
  desc: ls runs
  condition: evt.type = execve and proc.name = ls
  output: ls ran (command=%proc.cmdline)
  priority: NOTICE
  enabled: false
`

const BROKEN_RULES = `- macro: Bad Name
  condition: proc.name = cat

- rule: Broken
  desc: missing parenthesis
  condition: evt.type = open and (proc.name = cat
  output: x
  priority: WARNING

- rule: Unknown field
  desc: a field no engine has
  condition: evt.type = open and proc.nobody = cat
  output: x
  priority: WARNING
`

/** Two openat events of cat and one of ls, in Peregrine's event-file format. */
const EVENTS = [
  event(1, 'openat', 'cat', '/etc/hosts'),
  event(2, 'openat', 'ls', '/etc/passwd'),
  event(3, 'openat', 'cat', '/etc/shadow'),
]
  .map((line) => JSON.stringify(line))
  .join('\n')

function event(num: number, type: string, name: string, path: string): object {
  return {
    ts_ns: String(1773134042000000000n + BigInt(num)),
    hostname: 'node-1',
    num,
    type,
    proc: { pid: 40 + num, tid: 40 + num, name, args: [path] },
    user: { uid: 0, gid: 0 },
    fd: { num: 3, type: 'file', typechar: 'f', name: path },
  }
}

describe('peregrine rules validate', () => {
  it('exits 0 and counts the rules of a valid file', async () => {
    const rules = scratchFile('good_rules.yaml', RULES)

    const result = await runPeregrine(['rules', 'validate', rules])

    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /valid, 2 rules \(0 errors, 0 warnings\)/)
  })

  it('lists every error and warning with place, code and item', async () => {
    const rules = scratchFile('broken_rules.yaml', BROKEN_RULES)

    const result = await runPeregrine(['rules', 'validate', rules])

    assert.equal(result.code, 1)
    assert.match(
      result.stdout,
      /^error: .*broken_rules\.yaml:6:\d+: LOAD_ERR_COMPILE_CONDITION: rule 'Broken': /m,
    )
    assert.match(
      result.stdout,
      /^error: .*broken_rules\.yaml:12:\d+: LOAD_ERR_COMPILE_CONDITION: rule 'Unknown field': unknown field 'proc\.nobody'/m,
    )
    assert.match(
      result.stdout,
      /^warning: .*broken_rules\.yaml:1:3: LOAD_INVALID_MACRO_NAME: macro 'Bad Name': /m,
    )
    assert.match(result.stdout, /invalid \(2 errors, \d+ warnings\)/)
  })
})

describe('peregrine rules list', () => {
  it('prints name, priority, source, enabled, tags and event types', async () => {
    const rules = scratchFile('good_rules.yaml', RULES)

    const result = await runPeregrine(['rules', 'list', rules])

    assert.equal(result.code, 0, result.stderr)
    const lines = result.stdout.trim().split('\n')
    assert.deepEqual(lines, [
      'NAME\tPRIORITY\tSOURCE\tENABLED\tTAGS\tEVENT TYPES',
      'Open by cat\tWarning\tsyscall\ttrue\tdemo,filesystem\topenat',
      'Exec of ls\tNotice\tsyscall\tfalse\t-\texecve',
    ])
  })

  it('prints one JSON object per rule with --json', async () => {
    const rules = scratchFile('good_rules.yaml', RULES)

    const result = await runPeregrine(['rules', 'list', rules, '--json'])

    const first = JSON.parse(result.stdout.split('\n')[0]) as Record<string, unknown>
    assert.equal(first.name, 'Open by cat')
    assert.deepEqual(first.eventTypes, ['openat'])
  })

  it('exits 1 with the errors of an invalid file', async () => {
    const rules = scratchFile('broken_rules.yaml', BROKEN_RULES)

    const result = await runPeregrine(['rules', 'list', rules])

    assert.equal(result.code, 1)
    assert.match(result.stderr, /LOAD_ERR_COMPILE_CONDITION: rule 'Broken'/)
  })
})

describe('peregrine rules test', () => {
  it('prints the alerts of an event file and the count per rule', async () => {
    const rules = scratchFile('good_rules.yaml', RULES)
    const events = scratchFile('events.jsonl', EVENTS)

    const result = await runPeregrine(['rules', 'test', rules, '--events', `events:${events}`])

    assert.equal(result.code, 0, result.stderr)
    const alerts = result.stdout.split('\n').filter((line) => line.includes('cat opened'))
    assert.equal(alerts.length, 2)
    assert.match(alerts[0], /^\d\d:\d\d:\d\d\.\d{9}: Warning cat opened \/etc\/hosts/)
    assert.match(result.stdout, /^events: 3, alerts: 2$/m)
    assert.match(result.stdout, /^ {2}Open by cat: 2$/m)
  })

  it('prints Falco JSON alerts with --json and the totals on stderr', async () => {
    const rules = scratchFile('good_rules.yaml', RULES)
    const events = scratchFile('events.jsonl', EVENTS)

    const result = await runPeregrine([
      'rules',
      'test',
      rules,
      '--events',
      `events:${events}`,
      '--json',
    ])

    const alerts = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    assert.equal(alerts.length, 2)
    assert.equal(alerts[1].rule, 'Open by cat')
    assert.equal(alerts[1].output_fields['fd.name'], '/etc/shadow')
    assert.match(result.stderr, /Open by cat: 2/)
  })

  it('reads a capture file through sysdig', { skip: captureSkipReason() }, async () => {
    const rules = scratchFile('cat_rules.yaml', RULES.replace('openat', 'open'))
    const capture = `capture:${CAT_WRITE_CAPTURE}`

    const result = await runPeregrine(['rules', 'test', rules, '--events', capture])

    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /^events: 42, alerts: 4$/m)
  })

  it('exits 1 naming the accepted forms of a bad --events value', async () => {
    const rules = scratchFile('good_rules.yaml', RULES)

    const result = await runPeregrine(['rules', 'test', rules, '--events', 'kafka:topic'])

    assert.equal(result.code, 1)
    assert.match(result.stderr, /capture:FILE/)
  })
})

function captureSkipReason(): string | undefined {
  return missingUpstream(CAT_WRITE_CAPTURE) ?? sysdigSkipReason()
}
