import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { CheckNode, ConditionNode } from './condition-ast.js'
import { ConditionSyntaxError, MAX_CONDITION_DEPTH, parseCondition } from './condition-parser.js'

function check(node: ConditionNode): CheckNode {
  assert.equal(node.kind, 'check')
  return node as CheckNode
}

describe('condition parser', () => {
  it('binds and tighter than or', () => {
    const tree = parseCondition('a or b and c')

    assert.equal(tree.kind, 'or')
    const [first, second] = (tree as { children: ConditionNode[] }).children
    assert.deepEqual(first, { kind: 'macro', name: 'a', offset: 0 })
    assert.equal(second.kind, 'and')
  })

  it('binds not tighter than and', () => {
    const tree = parseCondition('not a and b')

    assert.equal(tree.kind, 'and')
    assert.equal((tree as { children: ConditionNode[] }).children[0].kind, 'not')
  })

  it('accepts not directly followed by a parenthesis', () => {
    const tree = parseCondition('not(proc.name=cat)')

    assert.equal(tree.kind, 'not')
  })

  it('requires a blank or parenthesis after and', () => {
    assert.throws(() => parseCondition('a andb'), ConditionSyntaxError)
  })

  it('reads comparisons without blanks around the operator', () => {
    const node = check(parseCondition('fd.num>=0'))

    assert.equal(node.operator, '>=')
    assert.deepEqual(node.right, { kind: 'value', value: '0', isQuoted: false })
  })

  it('reads field arguments bare and quoted', () => {
    const cases: [string, string, string | undefined][] = [
      ['proc.aname[2] = bash', 'proc.aname', '2'],
      ['evt.arg[0] = 3', 'evt.arg', '0'],
      ['container.label["app name"] = web', 'container.label', 'app name'],
      ['container.mount.dest[/proc*] = x', 'container.mount.dest', '/proc*'],
      ['evt.arg.flags contains O_CREAT', 'evt.arg.flags', undefined],
    ]
    for (const [text, name, arg] of cases) {
      const node = check(parseCondition(text))

      assert.equal(node.left.kind, 'field', text)
      assert.equal((node.left as { name: string }).name, name, text)
      assert.equal((node.left as { arg?: string }).arg, arg, text)
    }
  })

  it('decodes escapes in quoted strings', () => {
    const node = check(parseCondition(String.raw`fd.name = "a\"b\\c\x41\td\/"`))

    assert.deepEqual(node.right, { kind: 'value', value: 'a"b\\cA\td/', isQuoted: true })
  })

  it('keeps the backslash of an unknown escape', () => {
    const node = check(parseCondition(String.raw`proc.args contains "\ "`))

    assert.deepEqual(node.right, { kind: 'value', value: '\\ ', isQuoted: true })
  })

  it('keeps a double quote inside single quotes', () => {
    const node = check(parseCondition(`proc.cmdline = 'say "hi"'`))

    assert.equal((node.right as { value: string }).value, 'say "hi"')
  })

  it('rejects an unterminated string', () => {
    assert.throws(() => parseCondition('proc.name = "cat'), /unterminated quoted string/)
  })

  it('reads empty and long lists', () => {
    const empty = check(parseCondition('proc.name in ()'))
    const items = Array.from({ length: 10000 }, (_, i) => `p${i}`)
    const long = check(parseCondition(`proc.name in (${items.join(', ')})`))

    assert.deepEqual(empty.right, { kind: 'list', values: [] })
    assert.equal((long.right as { values: unknown[] }).values.length, 10000)
  })

  it('reads a bare value after in as a one-item list', () => {
    const node = check(parseCondition('proc.name in cat'))

    assert.deepEqual(node.right, {
      kind: 'list',
      values: [{ kind: 'value', value: 'cat', isQuoted: false }],
    })
  })

  it('reads quantifiers, transformers and val()', () => {
    const quantified = check(parseCondition('fd.name startswith anyof (/tmp, /dev/shm)'))
    const transformed = check(parseCondition('tolower(proc.name) = bash'))
    const compared = check(parseCondition('proc.name = val(proc.pname)'))

    assert.equal(quantified.quantifier, 'anyof')
    assert.equal(transformed.left.kind, 'transformer')
    assert.equal(compared.right?.kind, 'fieldValue')
  })

  it('accepts nesting up to the depth limit', () => {
    const depth = MAX_CONDITION_DEPTH - 1
    const text = `${'('.repeat(depth)}proc.name=cat${')'.repeat(depth)}`

    assert.equal(parseCondition(text).kind, 'check')
  })

  it('rejects deeper nesting without overflowing the stack', () => {
    const depth = 100000
    const parens = `${'('.repeat(depth)}proc.name=cat${')'.repeat(depth)}`
    const nots = `${'not '.repeat(depth)}proc.name=cat`

    assert.throws(() => parseCondition(parens), /nests deeper than/)
    assert.throws(() => parseCondition(nots), /nests deeper than/)
  })

  it('reports the token before unexpected text', () => {
    assert.throws(
      () => parseCondition('evt.type=open proc.name=cat'),
      /unexpected token after 'open', expecting 'or', 'and'/,
    )
  })

  it('rejects broken inputs with a syntax error', () => {
    const inputs = [
      '',
      '   ',
      '(',
      ')',
      'proc.name =',
      'proc.name in (a, b',
      'proc.name in (a,, b)',
      '= cat',
      'proc.name ~ cat',
      'a and',
      'not',
      '"quoted"',
      'proc.name[',
      'proc.name[] = x',
    ]
    for (const input of inputs) {
      assert.throws(() => parseCondition(input), ConditionSyntaxError, JSON.stringify(input))
    }
  })

  it('accepts unusual bytes inside quoted values', () => {
    const value = 'nul\u0000 bell\u0007 é 漢字 🚀 \uFFFD'
    const node = check(
      parseCondition(
        `proc.cmdline contains ${JSON.stringify(value)
          .replace(/\\u0000/, '\\x00')
          .replace(/\\u0007/, '\\x07')}`,
      ),
    )

    assert.equal((node.right as { value: string }).value, value)
  })

  it('treats a bare value with non-ASCII text as one value', () => {
    const node = check(parseCondition('proc.name = café'))

    assert.equal((node.right as { value: string }).value, 'café')
  })
})
