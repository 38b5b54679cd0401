import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SchemaError } from './errors.js'
import { parseSchema, readSchemaId } from './avro-codec.js'

describe('readSchemaId', () => {
  it('reads the big-endian id after the magic byte', () => {
    assert.equal(readSchemaId(Buffer.from([0, 0, 0, 1, 2, 99])), 258)
  })

  it('rejects JSON text with the byte it found', () => {
    assert.throws(
      () => readSchemaId(Buffer.from('{"a":1}')),
      (error: unknown) => {
        assert.ok(error instanceof SchemaError)
        assert.equal(error.code, 'PEREGRINE_DECODE_FAILED')
        assert.match(error.message, /first byte is 0x7b, expected 0x00/)
        return true
      },
    )
  })

  it('rejects messages shorter than the header', () => {
    assert.throws(() => readSchemaId(Buffer.from([0, 1])), /2 bytes is too short/)
    assert.throws(() => readSchemaId(null), /0 bytes is too short/)
  })
})

describe('exact long type', () => {
  const type = parseSchema({
    type: 'record',
    name: 'Sample',
    fields: [
      { name: 'value', type: 'long' },
      { name: 'optional', type: ['null', 'long'], default: null },
    ],
  })

  const cases: Array<[string, number | bigint]> = [
    ['a nanosecond time', 1733320000123456789n],
    ['the largest long', 9223372036854775807n],
    ['the smallest long', -9223372036854775808n],
    ['an unsigned 32-bit id', 4294967295],
    ['minus one', -1],
    ['the largest safe integer', Number.MAX_SAFE_INTEGER],
  ]
  for (const [label, value] of cases) {
    it(`round-trips ${label} exactly`, () => {
      const decoded = type.fromBuffer(type.toBuffer({ value, optional: value })) as {
        value: unknown
        optional: unknown
      }

      assert.equal(decoded.value, value)
      assert.equal(decoded.optional, value)
    })
  }

  it('rejects values beyond 64 bits', () => {
    assert.equal(type.isValid({ value: 2n ** 63n, optional: null }), false)
  })

  it('can parse the same schema twice', () => {
    const schema = { type: 'record', name: 'Twice', fields: [{ name: 'a', type: 'long' }] } as const

    assert.doesNotThrow(() => {
      parseSchema(schema as never)
      parseSchema(schema as never)
    })
  })
})
