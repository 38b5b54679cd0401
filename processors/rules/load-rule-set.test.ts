import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { RuleError } from '../../core/errors.js'
import { fileFd, syscallEvent } from './event-fixture.js'
import type { LoadProblem } from './load-problem.js'
import { loadRuleSet } from './load-rule-set.js'
import type { LoadRuleSetOptions } from './load-rule-set.js'
import { UPSTREAM_DIR } from '../../tests/support/upstream.js'

const UPSTREAM = UPSTREAM_DIR
const RULES_DIR = join(UPSTREAM, 'falco-rules')
const TESTS_DIR = join(UPSTREAM, 'falco-tests', 'rules')
const SKIP_REASON = `upstream data not found at ${UPSTREAM}`
const skipUpstream = existsSync(UPSTREAM) ? false : SKIP_REASON
if (skipUpstream !== false) console.log(`# skipping upstream rules tests: ${SKIP_REASON}`)

/** The event of Falco's cat_write trace that its regression rules look for. */
const catOpensDevNull = syscallEvent({
  type: 'open',
  args: { fd: '3', name: '/dev/null', flags: 'O_RDONLY', mode: '0', dev: '5' },
  proc: { name: 'cat', exe: 'cat', exepath: '/bin/cat', args: ['/dev/null'] },
  fd: fileFd('/dev/null'),
})

function testFiles(...names: string[]): string[] {
  return names.map((name) => join(TESTS_DIR, name))
}

function loadErrors(paths: string[], options?: LoadRuleSetOptions): LoadProblem[] {
  try {
    loadRuleSet(paths, options)
  } catch (error) {
    assert.ok(error instanceof RuleError, String(error))
    return error.context.errors as LoadProblem[]
  }
  assert.fail(`loading ${paths.join(', ')} did not fail`)
}

function detects(paths: string[], options?: LoadRuleSetOptions): boolean {
  return loadRuleSet(paths, options).evaluate(catOpensDevNull).length > 0
}

describe('upstream rules files', { skip: skipUpstream }, () => {
  const expectedRuleCounts: [string, number][] = [
    ['falco_rules.yaml', 25],
    ['falco-incubating_rules.yaml', 31],
    ['falco-sandbox_rules.yaml', 37],
    ['legacy/falco_rules.yaml', 78],
  ]
  for (const [file, ruleCount] of expectedRuleCounts) {
    it(`loads ${file} without error`, () => {
      const ruleSet = loadRuleSet([join(RULES_DIR, file)])

      assert.equal(ruleSet.rules.length, ruleCount)
    })
  }

  it('loads the stable, incubating and sandbox files together', () => {
    const files = ['falco_rules.yaml', 'falco-incubating_rules.yaml', 'falco-sandbox_rules.yaml']

    const ruleSet = loadRuleSet(files.map((file) => join(RULES_DIR, file)))

    assert.equal(ruleSet.rules.length, 25 + 31 + 37)
  })

  it('indexes every stable rule by event type', () => {
    const ruleSet = loadRuleSet([join(RULES_DIR, 'falco_rules.yaml')])

    const noEventType = ruleSet.warnings.filter((warning) => warning.code === 'LOAD_NO_EVTTYPE')
    assert.deepEqual(noEventType, [])
  })
})

describe('Falco regression rules files', { skip: skipUpstream }, () => {
  const failures: [string[], string, string, string][] = [
    [['invalid_not_yaml.yaml'], 'LOAD_ERR_YAML_VALIDATE', '', 'not a YAML sequence'],
    [['invalid_not_array.yaml'], 'LOAD_ERR_YAML_VALIDATE', '', 'not a YAML sequence'],
    [['invalid_array_item_not_object.yaml'], 'LOAD_ERR_YAML_VALIDATE', '', 'YAML map'],
    [['invalid_engine_version_not_number.yaml'], 'LOAD_ERR_YAML_VALIDATE', '', 'not-a-number'],
    [['invalid_yaml_parse_error.yaml'], 'LOAD_ERR_YAML_PARSE', '', 'invalid YAML'],
    [['invalid_list_without_items.yaml'], 'LOAD_ERR_YAML_VALIDATE', 'bad_list', "key 'items'"],
    [
      ['invalid_macro_without_condition.yaml'],
      'LOAD_ERR_YAML_VALIDATE',
      'bad_macro',
      "key 'condition'",
    ],
    [['invalid_macro_loop.yaml'], 'LOAD_ERR_VALIDATE', 'macro_a', 'reference loop in macro'],
    [
      ['invalid_rule_without_output.yaml'],
      'LOAD_ERR_YAML_VALIDATE',
      'no output rule',
      "key 'output'",
    ],
    [
      ['invalid_append_rule_without_condition.yaml'],
      'LOAD_ERR_VALIDATE',
      'no condition rule',
      'condition or exceptions',
    ],
    [
      ['invalid_append_macro_dangling.yaml'],
      'LOAD_ERR_VALIDATE',
      'dangling append',
      'no macro by that name',
    ],
    [['list_append_failure.yaml'], 'LOAD_ERR_VALIDATE', 'my_list', 'no list by that name'],
    [
      ['invalid_list_loop.yaml'],
      'LOAD_ERR_COMPILE_CONDITION',
      'sample rule',
      'unknown event type list_a',
    ],
    [['rule_append_failure.yaml'], 'LOAD_ERR_VALIDATE', 'my_rule', 'no rule by that name'],
    [
      ['invalid_base_macro.yaml', 'invalid_overwrite_macro.yaml'],
      'LOAD_ERR_VALIDATE',
      'some macro',
      "Undefined macro 'foo' used in filter.",
    ],
    [
      ['invalid_base_macro.yaml', 'invalid_append_macro.yaml'],
      'LOAD_ERR_COMPILE_CONDITION',
      'some macro',
      "unexpected token after 'execve', expecting 'or', 'and'",
    ],
    [
      ['invalid_overwrite_macro_multiple_docs.yaml'],
      'LOAD_ERR_VALIDATE',
      'some macro',
      "Undefined macro 'foo' used in filter.",
    ],
    [
      ['invalid_append_macro_multiple_docs.yaml'],
      'LOAD_ERR_COMPILE_CONDITION',
      'some macro',
      "unexpected token after 'execve'",
    ],
    [
      ['invalid_base_rule.yaml', 'invalid_overwrite_rule.yaml'],
      'LOAD_ERR_VALIDATE',
      'some rule',
      "Undefined macro 'bar' used in filter.",
    ],
    [
      ['invalid_base_rule.yaml', 'invalid_append_rule.yaml'],
      'LOAD_ERR_COMPILE_CONDITION',
      'some rule',
      "unexpected token after 'open'",
    ],
    [
      ['invalid_overwrite_rule_multiple_docs.yaml'],
      'LOAD_ERR_VALIDATE',
      'some rule',
      "Undefined macro 'bar'",
    ],
    [
      ['invalid_append_rule_multiple_docs.yaml'],
      'LOAD_ERR_COMPILE_CONDITION',
      'some rule',
      "unexpected token after 'open'",
    ],
    [
      ['invalid_missing_rule_name.yaml'],
      'LOAD_ERR_YAML_VALIDATE',
      '',
      "Mapping for key 'rule' is empty",
    ],
    [
      ['invalid_missing_list_name.yaml'],
      'LOAD_ERR_YAML_VALIDATE',
      '',
      "Mapping for key 'list' is empty",
    ],
    [
      ['invalid_missing_macro_name.yaml'],
      'LOAD_ERR_YAML_VALIDATE',
      '',
      "Mapping for key 'macro' is empty",
    ],
    [
      ['invalid_rule_output.yaml'],
      'LOAD_ERR_COMPILE_OUTPUT',
      'rule_with_invalid_output',
      'invalid formatting token not_a_real_field',
    ],
    [
      ['skip_unknown_error.yaml'],
      'LOAD_ERR_COMPILE_CONDITION',
      'Contains Unknown Event And Not Skipping',
      'proc.nobody',
    ],
    [
      ['skip_unknown_unspec.yaml'],
      'LOAD_ERR_COMPILE_CONDITION',
      'Contains Unknown Event And Unspecified',
      'proc.nobody',
    ],
    [
      ['engine_version_mismatch.yaml'],
      'LOAD_ERR_VALIDATE',
      '',
      'Rules require engine version 9999999, but engine version is',
    ],
    [
      ['exceptions/item_no_fields.yaml'],
      'LOAD_ERR_YAML_VALIDATE',
      'ex1',
      "no mapping for key 'fields'",
    ],
    [['exceptions/item_no_name.yaml'], 'LOAD_ERR_YAML_VALIDATE', '', "no mapping for key 'name'"],
    [
      ['exceptions/append_item_no_name.yaml'],
      'LOAD_ERR_YAML_VALIDATE',
      '',
      "no mapping for key 'name'",
    ],
    [
      ['exceptions/item_unknown_fields.yaml'],
      'LOAD_ERR_VALIDATE',
      'ex1',
      "'not.exist' is not a supported filter field",
    ],
    [
      ['exceptions/item_comps_fields_len_mismatch.yaml'],
      'LOAD_ERR_VALIDATE',
      'ex1',
      'fields and comps lists must have equal length',
    ],
    [
      ['exceptions/item_unknown_comp.yaml'],
      'LOAD_ERR_VALIDATE',
      'ex1',
      "'no-comp' is not a supported comparison operator",
    ],
    [
      ['exceptions/item_fields_values_len_mismatch.yaml'],
      'LOAD_ERR_VALIDATE',
      'ex1',
      'fields and values lists must have equal length',
    ],
    [
      ['exceptions/append_item_fields_values_len_mismatch.yaml'],
      'LOAD_ERR_VALIDATE',
      'ex1',
      'fields and values lists must have equal length',
    ],
    [
      ['exceptions/append_item_not_in_rule.yaml'],
      'LOAD_ERR_VALIDATE',
      'ex2',
      'a new exception must have a fields property',
    ],
    [
      ['exceptions/rule_exception_new_no_field_append.yaml'],
      'LOAD_ERR_VALIDATE',
      'proc_cmdline',
      'a new exception must have a fields property',
    ],
  ]
  for (const [files, code, item, message] of failures) {
    it(`rejects ${files.join(' + ')} with ${code}`, () => {
      const errors = loadErrors(testFiles(...files))

      const found = errors.find((error) => error.code === code && error.message.includes(message))
      assert.ok(found, `no ${code} containing "${message}" in ${JSON.stringify(errors)}`)
      assert.equal(found.item ?? '', item)
      assert.ok(found.line >= 1)
      assert.ok(found.column >= 1)
    })
  }

  const detections: [string[], boolean][] = [
    [['single_rule.yaml'], true],
    [['rule_names_with_spaces.yaml'], true],
    [['rule_names_with_regex_chars.yaml'], true],
    [['empty_rules.yaml', 'single_rule.yaml'], true],
    [['single_rule.yaml', 'empty_rules.yaml'], true],
    [['single_rule.yaml', 'override_rule.yaml'], false],
    [['single_rule.yaml', 'override_macro.yaml'], false],
    [['single_rule.yaml', 'override_list.yaml'], false],
    [['single_rule.yaml', 'override_nested_list.yaml'], false],
    [['list_substring.yaml'], false],
    [['list_sub_front.yaml'], true],
    [['list_sub_mid.yaml'], true],
    [['list_sub_end.yaml'], true],
    [['list_sub_bare.yaml'], true],
    [['list_sub_whitespace.yaml'], true],
    [['list_order.yaml'], true],
    [['macro_order.yaml'], true],
    [['rule_order.yaml'], true],
    [['endswith.yaml'], true],
    [['single_rule_enabled_flag.yaml'], false],
    [['disabled_rule_using_enabled_flag_only.yaml'], false],
    [['enabled_rule_using_enabled_flag_only.yaml'], true],
    [['list_append.yaml'], true],
    [['list_append_false.yaml'], false],
    [['macro_append.yaml'], true],
    [['macro_append_false.yaml'], false],
    [['rule_append.yaml'], true],
    [['rule_append_false.yaml'], false],
    [['skip_unknown_evt.yaml'], false],
    [['skip_unknown_prefix.yaml'], false],
    [['rules_dir'], true],
    [['exceptions/rule_exception_no_values.yaml'], true],
  ]
  for (const [files, expected] of detections) {
    const verb = expected ? 'detects' : 'ignores'
    it(`${verb} cat opening /dev/null with ${files.join(' + ')}`, () => {
      assert.equal(detects(testFiles(...files)), expected)
    })
  }

  const exceptionFiles = [
    'one_value',
    'append_one_value',
    'second_value',
    'append_second_value',
    'second_item',
    'append_second_item',
    'third_item',
    'append_third_item',
    'quoted',
    'append_multiple',
    'comp',
    'append_comp',
    'values_listref',
    'values_listref_noparens',
    'values_list',
    'single_field',
    'single_field_append',
    'new_single_field_append',
    'new_second_field_append',
  ]
  for (const name of exceptionFiles) {
    it(`exception ${name.replaceAll('_', ' ')} suppresses the match`, () => {
      assert.equal(detects(testFiles(`exceptions/rule_exception_${name}.yaml`)), false)
    })
  }

  it('drops rules below the minimum priority before appends apply', () => {
    const files = testFiles('single_rule.yaml', 'append_single_rule.yaml')

    assert.equal(detects(files, { minPriority: 'ERROR' }), false)
  })

  it('warns about every rule that matches too many event types', () => {
    const ruleSet = loadRuleSet(testFiles('falco_rules_warnings.yaml'))

    const flagged = ruleSet.warnings
      .filter((warning) => warning.code === 'LOAD_NO_EVTTYPE')
      .map((warning) => warning.item)
    const expected = [
      'no_evttype',
      'evttype_not_equals',
      'leading_not',
      'not_equals_at_end',
      'not_at_end',
      'not_equals_and_not',
      'leading_in_not_equals_at_evttype',
      'not_with_evttypes',
      'not_with_evttypes_addl',
    ]
    for (const rule of expected) assert.ok(flagged.includes(rule), `${rule} not flagged`)
  })

  it('skips a rule with an unknown field when told to, with a warning', () => {
    const ruleSet = loadRuleSet(testFiles('skip_unknown_evt.yaml'))

    assert.equal(ruleSet.rules.length, 0)
    assert.equal(ruleSet.warnings[0].code, 'LOAD_UNKNOWN_FILTER')
    assert.match(ruleSet.warnings[0].message, /proc\.nobody/)
  })

  it('stops at the first matching rule unless rule matching is all', () => {
    const files = testFiles('catchall_order.yaml')

    const first = loadRuleSet(files).evaluate(catOpensDevNull)
    const all = loadRuleSet(files, { ruleMatching: 'all' }).evaluate(catOpensDevNull)

    assert.deepEqual(
      first.map((match) => match.rule),
      ['open_dev_null'],
    )
    assert.deepEqual(
      all.map((match) => match.rule),
      ['open_dev_null', 'dev_null'],
    )
  })

  it('selects rules by name and tag as Falco -D, -T and -t do', () => {
    const files = testFiles('tagged_rules.yaml')
    const enabledNames = (options: LoadRuleSetOptions) =>
      loadRuleSet(files, options)
        .rules.filter((rule) => rule.enabled)
        .map((rule) => rule.name)

    assert.deepEqual(enabledNames({ disabledTags: ['a', 'b', 'c'] }), [
      'open_11',
      'open_12',
      'open_13',
    ])
    assert.deepEqual(enabledNames({ enabledTags: ['d'] }), ['open_11'])
    assert.equal(enabledNames({ disabledRules: ['open_1'] }).includes('open_10'), false)
  })
})
