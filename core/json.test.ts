import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { toJsonText } from './json.js'

describe('toJsonText', () => {
  it('writes bigint as a plain number with every digit', () => {
    const text = toJsonText({ ts: 1733320000123456789n, small: 5 })

    assert.equal(text, '{"ts":1733320000123456789,"small":5}')
  })

  it('writes negative bigint values', () => {
    assert.equal(toJsonText([-9223372036854775808n]), '[-9223372036854775808]')
  })

  it('escapes control characters so the document stays on one line', () => {
    const text = toJsonText({ cmdline: 'sh -c "a\nb\r\u001b[31m"' })

    assert.equal(text.includes('\n'), false)
    assert.equal(text.includes('\u001b'), false)
    assert.deepEqual(JSON.parse(text), { cmdline: 'sh -c "a\nb\r\u001b[31m"' })
  })

  it('leaves strings that imitate the bigint marker untouched', () => {
    const planted = 'bigint-000000000000000000000000-0'

    const text = toJsonText({ name: planted, value: 1n })

    assert.deepEqual(JSON.parse(text), { name: planted, value: 1 })
  })

  it('escapes characters that break lines or reorder text in viewers', () => {
    const hostile = 'a\u0085b\u2028c\u2029d\u009b31me\u202egnp.exe'

    const text = toJsonText({ name: hostile })

    assert.equal(/[\u0080-\u009f\u2028\u2029\u202e]/.test(text), false)
    assert.match(text, /\\u0085/)
    assert.deepEqual(JSON.parse(text), { name: hostile })
  })
})
