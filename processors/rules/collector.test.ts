import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { RuleError } from '../../core/errors.js'
import {
  fileFd,
  loadRulesText,
  makeTemporaryFolder,
  syscallEvent,
  writeRulesFile,
} from './event-fixture.js'
import type { LoadProblem } from './load-problem.js'
import { loadRuleSet } from './load-rule-set.js'

const catOpen = syscallEvent({ type: 'open', fd: fileFd('/dev/null') })

const BASE_RULE = `
- macro: is_cat
  condition: proc.name = cat
- rule: Cat open
  desc: cat opens a file
  condition: evt.type = open and is_cat
  output: cat opened %fd.name
  priority: WARNING
  tags: [b, a]
`

function errorsOf(text: string): LoadProblem[] {
  try {
    loadRulesText(text)
  } catch (error) {
    assert.ok(error instanceof RuleError)
    return error.context.errors as LoadProblem[]
  }
  return assert.fail('the load did not fail')
}

function firstMatch(text: string, event = catOpen) {
  return loadRulesText(text).evaluate(event)[0]
}

describe('rules file items', () => {
  it('reads several YAML documents in order', () => {
    const ruleSet = loadRulesText(`${BASE_RULE}\n---\n- list: unused\n  items: [x]\n---\n`)

    assert.equal(ruleSet.rules.length, 1)
    assert.equal(
      ruleSet.warnings.some((warning) => warning.code === 'LOAD_UNUSED_LIST'),
      true,
    )
  })

  it('loads a folder in file name order', () => {
    const folder = makeTemporaryFolder()
    writeFileSync(
      join(folder, '10-override.yaml'),
      '- macro: is_cat\n  condition: proc.name = dog\n',
    )
    writeFileSync(join(folder, '00-base.yaml'), BASE_RULE)
    writeFileSync(join(folder, 'notes.txt'), 'not rules')

    const matches = loadRuleSet([folder]).evaluate(catOpen)

    assert.equal(matches.length, 0)
  })

  it('accepts priorities in any case and the info alias', () => {
    for (const [written, printed] of [
      ['emergency', 'Emergency'],
      ['ALERT', 'Alert'],
      ['Critical', 'Critical'],
      ['error', 'Error'],
      ['warning', 'Warning'],
      ['NOTICE', 'Notice'],
      ['info', 'Informational'],
      ['INFORMATIONAL', 'Informational'],
      ['debug', 'Debug'],
    ]) {
      const ruleSet = loadRulesText(BASE_RULE.replace('WARNING', written))

      assert.equal(ruleSet.rules[0].priority, printed, written)
    }
  })

  it('rejects an unknown priority with its position', () => {
    const [error] = errorsOf(BASE_RULE.replace('WARNING', 'LOUD'))

    assert.equal(error.code, 'LOAD_ERR_YAML_VALIDATE')
    assert.equal(error.item, 'Cat open')
    assert.equal(error.line, 8)
    assert.equal(error.column, 13)
  })

  it('warns about unknown keys and unknown items', () => {
    const ruleSet = loadRulesText(`${BASE_RULE}  colour: blue\n- something: else\n`)

    const codes = ruleSet.warnings.map((warning) => warning.code)
    assert.ok(codes.includes('LOAD_UNKNOWN_KEY'))
    assert.ok(codes.includes('LOAD_UNKNOWN_ITEM'))
  })

  it('lists every error of every file, not only the first', () => {
    const first = writeRulesFile('- rule: a\n  desc: d\n')
    const second = writeRulesFile('- macro: m\n  condition: proc.name =\n- list: l\n')

    const error = (() => {
      try {
        loadRuleSet([first, second])
      } catch (caught) {
        return caught as RuleError
      }
      return assert.fail('the load did not fail')
    })()

    const errors = error.context.errors as LoadProblem[]
    assert.equal(errors.length, 3)
    assert.match(error.message, /rules\.yaml:1:3: LOAD_ERR_YAML_VALIDATE: rule 'a':/)
    assert.match(error.message, /LOAD_ERR_COMPILE_CONDITION: macro 'm'/)
  })

  it('reports a missing file as LOAD_ERR_FILE_READ', () => {
    assert.throws(() => loadRuleSet(['/nonexistent/rules.yaml']), /LOAD_ERR_FILE_READ/)
  })

  it('keeps the position of the first definition when a rule is redefined', () => {
    const ruleSet = loadRulesText(`${BASE_RULE}
- rule: Other
  desc: d
  condition: evt.type = open
  output: other
  priority: INFO
- rule: Cat open
  desc: redefined
  condition: evt.type = open and proc.name = cat
  output: redefined %proc.name
  priority: ERROR
`)

    assert.deepEqual(
      ruleSet.rules.map((rule) => rule.name),
      ['Cat open', 'Other'],
    )
    assert.equal(ruleSet.evaluate(catOpen)[0].output, 'redefined cat')
  })

  it('applies a deprecated enable-only item', () => {
    const ruleSet = loadRulesText(`${BASE_RULE}\n- rule: Cat open\n  enabled: false\n`)

    assert.equal(ruleSet.rules[0].enabled, false)
    assert.equal(ruleSet.evaluate(catOpen).length, 0)
    assert.ok(ruleSet.warnings.some((warning) => warning.code === 'LOAD_DEPRECATED_ITEM'))
  })

  it('warns about macro and list names Falco does not accept', () => {
    const ruleSet = loadRulesText(`
- macro: 1bad
  condition: proc.name = x
- list: "bad list"
  items: [x]
${BASE_RULE}`)

    const codes = ruleSet.warnings.map((warning) => warning.code)
    assert.ok(codes.includes('LOAD_INVALID_MACRO_NAME'))
    assert.ok(codes.includes('LOAD_INVALID_LIST_NAME'))
  })

  it('skips rules of unknown sources with a warning', () => {
    const ruleSet = loadRulesText(`${BASE_RULE}
- rule: Audit
  desc: d
  condition: ka.verb = create
  output: o
  priority: INFO
  source: k8s_audit
`)

    assert.equal(ruleSet.rules.length, 1)
    assert.ok(ruleSet.warnings.some((warning) => warning.code === 'LOAD_UNKNOWN_SOURCE'))
  })

  it('checks required engine and plugin versions', () => {
    assert.doesNotThrow(() => loadRulesText('- required_engine_version: 0.57.0\n'))
    assert.doesNotThrow(() => loadRulesText('- required_engine_version: 13\n'))
    assert.throws(() => loadRulesText('- required_engine_version: 1.0.0\n'), /LOAD_ERR_VALIDATE/)
    assert.doesNotThrow(() =>
      loadRulesText('- required_plugin_versions:\n  - name: container\n    version: 0.4.0\n'),
    )
    assert.throws(
      () => loadRulesText('- required_plugin_versions:\n  - name: k8saudit\n    version: 0.1.0\n'),
      /does not provide/,
    )
    assert.doesNotThrow(() =>
      loadRulesText(`- required_plugin_versions:
  - name: k8saudit
    version: 0.1.0
    alternatives:
      - name: container
        version: 0.1.0
`),
    )
  })
})

describe('append and override', () => {
  it('appends list items and macro conditions with old-style append', () => {
    const match = firstMatch(`
- list: names
  items: [dog]
- list: names
  items: [cat]
  append: true
- macro: is_named
  condition: proc.name = dog
- macro: is_named
  condition: or proc.name in (names)
  append: true
- rule: R
  desc: d
  condition: evt.type = open and is_named
  output: o
  priority: INFO
`)

    assert.equal(match?.rule, 'R')
  })

  it('appends only condition and exceptions to a rule with old-style append', () => {
    const ruleSet = loadRulesText(`${BASE_RULE}
- rule: Cat open
  append: true
  condition: and fd.name = /dev/null
`)

    assert.equal(ruleSet.evaluate(catOpen).length, 1)
    assert.equal(ruleSet.evaluate(syscallEvent({ type: 'open' })).length, 0)
    assert.ok(ruleSet.warnings.some((warning) => warning.code === 'LOAD_DEPRECATED_ITEM'))
  })

  it('appends condition, output, desc and tags with override', () => {
    const match = firstMatch(`${BASE_RULE}
- rule: Cat open
  condition: and fd.name = /dev/null
  output: (by %user.name)
  tags: [c, a]
  override:
    condition: append
    output: append
    tags: append
`)

    assert.equal(match?.output, 'cat opened /dev/null (by root)')
    assert.deepEqual(match?.tags, ['a', 'b', 'c'])
  })

  it('replaces keys with override', () => {
    const ruleSet = loadRulesText(`${BASE_RULE}
- rule: Cat open
  condition: evt.type = open and proc.name = dog
  priority: CRITICAL
  enabled: false
  tags: [z]
  override:
    condition: replace
    priority: replace
    enabled: replace
    tags: replace
`)

    assert.deepEqual(ruleSet.rules[0], {
      name: 'Cat open',
      priority: 'Critical',
      tags: ['z'],
      source: 'syscall',
      enabled: false,
      eventTypes: ['open'],
    })
  })

  it('replaces list items and macro conditions with override', () => {
    const match = firstMatch(`
- list: names
  items: [dog]
- list: names
  items: [cat]
  override:
    items: replace
- macro: is_named
  condition: proc.name = dog
- macro: is_named
  condition: proc.name in (names)
  override:
    condition: replace
- rule: R
  desc: d
  condition: evt.type = open and is_named
  output: o
  priority: INFO
`)

    assert.equal(match?.rule, 'R')
  })

  it('rejects append together with override', () => {
    const [error] = errorsOf(`${BASE_RULE}
- rule: Cat open
  condition: and fd.name = x
  append: true
  override:
    condition: append
`)

    assert.equal(error.code, 'LOAD_ERR_YAML_VALIDATE')
    assert.match(error.message, /both 'append' and 'override'/)
  })

  it('rejects keys missing from override and override keys missing from the item', () => {
    const unlisted = errorsOf(`${BASE_RULE}
- rule: Cat open
  condition: and fd.name = x
  output: more
  override:
    condition: append
`)
    const absent = errorsOf(`${BASE_RULE}
- rule: Cat open
  condition: and fd.name = x
  override:
    condition: append
    output: append
`)

    assert.match(unlisted[0].message, /'output' must be listed under 'override'/)
    assert.match(absent[0].message, /override lists 'output' but the item has no 'output'/)
  })

  it('rejects modes a key does not allow and overrides of missing items', () => {
    const priority = errorsOf(`${BASE_RULE}
- rule: Cat open
  priority: ERROR
  override:
    priority: append
`)
    const missing = errorsOf(`
- macro: nowhere
  condition: proc.name = x
  override:
    condition: append
`)

    assert.match(priority[0].message, /cannot be overridden with 'append'/)
    assert.equal(missing[0].code, 'LOAD_ERR_VALIDATE')
    assert.match(missing[0].message, /no macro by that name already exists/)
  })
})

describe('exceptions', () => {
  const ruleWith = (exceptions: string) => `
- list: cat_cmdlines
  items: [cat /dev/zero, "cat /dev/null"]
- rule: Cat open
  desc: d
  condition: evt.type = open and proc.name = cat
  output: o
  priority: INFO
  exceptions:
${exceptions}`

  it('compose tuples of fields with and, and tuples with or', () => {
    const suppressed = firstMatch(
      ruleWith(`    - name: by_name_and_parent
      fields: [proc.name, proc.pname]
      values:
        - [dog, bash]
        - [cat, bash]`),
    )
    const kept = firstMatch(
      ruleWith(`    - name: by_name_and_parent
      fields: [proc.name, proc.pname]
      values:
        - [cat, sshd]`),
    )

    assert.equal(suppressed, undefined)
    assert.equal(kept?.rule, 'Cat open')
  })

  it('use the given comparison operators', () => {
    const match = firstMatch(
      ruleWith(`    - name: by_prefix
      fields: [fd.name, proc.cmdline]
      comps: [startswith, contains]
      values:
        - [/dev/, /etc/hosts]`),
    )

    assert.equal(match, undefined)
  })

  it('take a flat list of values for a single field', () => {
    const match = firstMatch(
      ruleWith(`    - name: by_path
      fields: fd.name
      comps: pmatch
      values: [/dev, /proc]`),
    )

    assert.equal(match, undefined)
  })

  it('accept list names and YAML lists', () => {
    const event = syscallEvent({ type: 'open', proc: { args: ['/dev/null'] } })
    const byName = loadRulesText(
      ruleWith(`    - name: by_list
      fields: [proc.name, proc.cmdline]
      comps: [=, in]
      values:
        - [cat, cat_cmdlines]`),
    )
    const byYamlList = loadRulesText(
      ruleWith(`    - name: by_list
      fields: [proc.name, proc.cmdline]
      comps: [=, in]
      values:
        - [cat, [cat /dev/zero, cat /dev/null]]`),
    )

    assert.equal(byName.evaluate(event).length, 0)
    assert.equal(byYamlList.evaluate(event).length, 0)
  })

  it('add nothing when they have no values', () => {
    const match = firstMatch(
      ruleWith(`    - name: empty
      fields: [proc.name]`),
    )

    assert.equal(match?.rule, 'Cat open')
  })

  it('keep or-conditions of the rule grouped', () => {
    const text = `
- rule: Either
  desc: d
  condition: evt.type = open or evt.type = close
  output: o
  priority: INFO
  exceptions:
    - name: not_cat
      fields: [proc.name]
      values: [[cat]]
`
    const ruleSet = loadRulesText(text)

    assert.equal(ruleSet.evaluate(syscallEvent({ type: 'close' })).length, 0)
    assert.equal(ruleSet.evaluate(syscallEvent({ type: 'close', proc: { name: 'ls' } })).length, 1)
  })

  it('warn when an exception name is used twice', () => {
    const ruleSet = loadRulesText(
      ruleWith(`    - name: twice
      fields: [proc.name]
    - name: twice
      fields: [proc.pname]`),
    )

    assert.ok(ruleSet.warnings.some((warning) => warning.code === 'LOAD_EXCEPTION_NAME_NOT_UNIQUE'))
  })

  it('reject fields or comps when appending to an existing exception', () => {
    const errors = errorsOf(`${ruleWith(`    - name: ex
      fields: [proc.name]`)}
- rule: Cat open
  exceptions:
    - name: ex
      fields: [proc.pname]
      values: [[bash]]
  override:
    exceptions: append
`)

    assert.match(errors[0].message, /appending to it may add values only/)
    assert.equal(errors[0].item, 'ex')
    assert.equal(errors[0].itemType, 'exception')
  })
})

describe('list substitution', () => {
  const ruleOn = (condition: string, lists = '') => `${lists}
- rule: R
  desc: d
  condition: ${condition}
  output: o
  priority: INFO
`

  it('replaces a list name wherever it stands between delimiters', () => {
    const lists = '- list: cats\n  items: [cat, kitten]\n'

    assert.ok(firstMatch(ruleOn('evt.type = open and proc.name in (dog, cats)', lists)))
    assert.ok(firstMatch(ruleOn('evt.type = open and proc.name in (cats,dog)', lists)))
    assert.equal(firstMatch(ruleOn('evt.type = open and proc.name in (mycats)', lists)), undefined)
  })

  it('substitutes inside quoted strings too, as Falco does', () => {
    const lists = '- list: kitty\n  items: [dog]\n'
    const event = syscallEvent({ type: 'open', proc: { args: ['dog', 'y'] } })

    const match = firstMatch(
      ruleOn('evt.type = open and proc.cmdline = "cat kitty y"', lists),
      event,
    )

    assert.equal(match?.rule, 'R')
  })

  it('quotes items that contain a space', () => {
    const lists = '- list: cmds\n  items: [cat /etc/hosts]\n'

    assert.ok(firstMatch(ruleOn('evt.type = open and proc.cmdline in (cmds)', lists)))
  })

  it('drops a neighbouring comma for an empty list', () => {
    const lists = '- list: none\n  items: []\n'

    assert.ok(firstMatch(ruleOn('evt.type = open and proc.name in (none, cat)', lists)))
    assert.ok(firstMatch(ruleOn('evt.type = open and proc.name in (cat, none)', lists)))
    assert.equal(firstMatch(ruleOn('evt.type = open and proc.name in (none)', lists)), undefined)
  })

  it('expands list references in list items one level deep', () => {
    const lists = `
- list: inner
  items: [cat]
- list: outer
  items: [inner, dog]
`

    assert.ok(firstMatch(ruleOn('evt.type = open and proc.name in (outer)', lists)))
  })

  it('leaves an unknown list name as a literal value', () => {
    assert.equal(firstMatch(ruleOn('evt.type = open and proc.name in (no_such_list)')), undefined)
  })
})

describe('macros', () => {
  it('see only macros defined before them', () => {
    const errors = errorsOf(`
- macro: first
  condition: second
- macro: second
  condition: proc.name = cat
- rule: R
  desc: d
  condition: evt.type = open and first
  output: o
  priority: INFO
`)

    assert.equal(errors[0].item, 'first')
    assert.match(errors[0].message, /Undefined macro 'second'/)
  })

  it('warn when no rule or macro uses them', () => {
    const ruleSet = loadRulesText(`${BASE_RULE}\n- macro: lonely\n  condition: proc.name = x\n`)

    const unused = ruleSet.warnings.filter((warning) => warning.code === 'LOAD_UNUSED_MACRO')
    assert.deepEqual(
      unused.map((warning) => warning.item),
      ['lonely'],
    )
  })
})

describe('YAML aliases', () => {
  it('resolve anchored values', () => {
    const ruleSet = loadRulesText(`
- list: cats
  items: &names [cat, kitten]
- list: more_cats
  items: *names
- rule: R
  desc: d
  condition: evt.type = open and proc.name in (more_cats)
  output: o
  priority: INFO
`)

    assert.equal(ruleSet.evaluate(catOpen)[0]?.rule, 'R')
  })

  it('reject exponential alias expansion', () => {
    const levels = ['- list: l0\n  items: &a0 [x, x, x, x, x, x, x, x, x, x]']
    for (let i = 1; i < 10; i++) {
      const refs = Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')
      levels.push(`- list: l${i}\n  items: &a${i} [${refs}]`)
    }

    const errors = errorsOf(levels.join('\n'))

    assert.equal(errors[0].code, 'LOAD_ERR_YAML_PARSE')
    assert.match(errors[0].message, /aliases expand to more than/)
  })
})

describe('hostile rules files', () => {
  it('load a macro used many times quickly', () => {
    const macros = ['- macro: m0\n  condition: proc.name = cat']
    for (let i = 1; i <= 30; i++) {
      macros.push(
        `- macro: m${i}\n  condition: (m${i - 1} or m${i - 1}) and (m${i - 1} or fd.num > 0)`,
      )
    }
    const text = `${macros.join('\n')}
- rule: R
  desc: d
  condition: evt.type = open and proc.name = dog and m30
  output: o
  priority: INFO
`
    const started = Date.now()

    const ruleSet = loadRulesText(text)

    assert.equal(ruleSet.evaluate(catOpen).length, 0)
    assert.ok(Date.now() - started < 5000)
  })

  it('reject macros that nest too deeply once expanded', () => {
    const macros = ['- macro: m0\n  condition: proc.name = cat']
    for (let i = 1; i <= 30; i++) {
      const wrapped = `${'not ('.repeat(100)}m${i - 1}${')'.repeat(100)}`
      macros.push(`- macro: m${i}\n  condition: ${wrapped}`)
    }
    const text = `${macros.join('\n')}
- rule: R
  desc: d
  condition: evt.type = open and m30
  output: o
  priority: INFO
`

    const errors = errorsOf(text)

    assert.ok(errors.some((error) => /nests deeper than 2000 levels/.test(error.message)))
  })

  it('load files with invalid UTF-8 and control bytes', () => {
    const bytes = Buffer.concat([
      Buffer.from('- rule: "bad \\x01 bytes"\n  desc: "'),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from('"\n  condition: evt.type = open and proc.name = "\\x00\\xff"\n'),
      Buffer.from('  output: "name=%proc.name"\n  priority: INFO\n'),
    ])
    const path = writeRulesFile('')
    writeFileSync(path, bytes)

    const ruleSet = loadRuleSet([path])

    assert.equal(ruleSet.rules[0].name, 'bad \u0001 bytes')
    assert.equal(
      ruleSet.evaluate(syscallEvent({ type: 'open', proc: { name: '\u0000\u00ff' } })).length,
      1,
    )
  })

  it('keep a NUL byte inside a YAML value', () => {
    const path = writeRulesFile('')
    writeFileSync(path, Buffer.from('- list: a\n  items: [x\u0000y]\n'))

    const ruleSet = loadRuleSet([path])

    assert.equal(ruleSet.warnings[0].code, 'LOAD_UNUSED_LIST')
  })
})

describe('error positions', () => {
  it('point at the failing token of a one-line condition', () => {
    const [error] = errorsOf(`${BASE_RULE}- macro: broken\n  condition: proc.name = cat and (\n`)

    assert.equal(error.item, 'broken')
    assert.equal(error.line, 11)
    assert.equal(error.column, 35)
  })

  it('follow folded multi-line conditions', () => {
    const text = `- rule: R
  desc: d
  condition: >
    evt.type = open
    and proc.name in (cat, dog
    and fd.num > 0
  output: o
  priority: INFO
`

    const [error] = errorsOf(text)

    assert.equal(error.line, 6)
    assert.equal(error.column, 5)
  })

  it('follow appended conditions into the appending item', () => {
    const [error] = errorsOf(`${BASE_RULE}- rule: Cat open\n  append: true\n  condition: and = x\n`)

    assert.equal(error.line, 12)
    assert.equal(error.column, 18)
  })
})

describe('compile error positions', () => {
  it('point at an unknown field in the rule', () => {
    const [error] = errorsOf(
      BASE_RULE.replace('evt.type = open and', 'evt.type = open and proc.nobody = 1 and'),
    )

    assert.match(error.message, /proc\.nobody/)
    assert.equal(error.line, 6)
    assert.equal(error.column, 34)
  })

  it('point at an unknown field inside a macro', () => {
    const [error] = errorsOf(
      BASE_RULE.replace('proc.name = cat', 'proc.name = cat and fd.nothing = x'),
    )

    assert.equal(error.item, 'Cat open')
    assert.equal(error.line, 3)
    assert.equal(error.column, 34)
  })

  it('point at an invalid value', () => {
    const [error] = errorsOf(BASE_RULE.replace('evt.type = open', 'evt.type = opne'))

    assert.match(error.message, /unknown event type opne/)
    assert.equal(error.line, 6)
    assert.equal(error.column, 25)
  })
})
