import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SchemaError } from './errors.js'
import { AvroCodec, parseSchema, readSchemaId } from './avro-codec.js'

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

describe('AvroCodec framing', () => {
  // A registry stand-in that returns one schema id; the real registry is exercised by the
  // integration tests, this only drives the codec's own framing and buffer handling.
  const schema = {
    type: 'record',
    name: 'Framed',
    fields: [
      { name: 'ts', type: 'long' },
      { name: 'text', type: 'string' },
    ],
  } as const
  const registry = {
    register: async () => ({ id: 77 }),
    getSchema: async () => parseSchema(schema as never),
  }

  it('writes the magic byte and the schema id before the body', async () => {
    const codec = await AvroCodec.register<{ ts: bigint; text: string }>(
      registry as never,
      'framed-value',
      schema as never,
    )

    const message = codec.encode({ ts: 1796378400000000001n, text: 'x' })

    assert.equal(message[0], 0)
    assert.equal(message.readInt32BE(1), 77)
    assert.deepEqual({ ...(await codec.decode(message)) }, { ts: 1796378400000000001n, text: 'x' })
  })

  it('encodes records larger than its starting buffer, and small ones after them', async () => {
    const codec = await AvroCodec.register<{ ts: number; text: string }>(
      registry as never,
      'framed-value',
      schema as never,
    )
    const large = { ts: 1, text: 'a'.repeat(100_000) }

    const first = codec.encode(large)
    const second = codec.encode({ ts: 2, text: 'b' })

    assert.deepEqual({ ...(await codec.decode(first)) }, large)
    assert.deepEqual({ ...(await codec.decode(second)) }, { ts: 2, text: 'b' })
    assert.equal(first.readInt32BE(1), 77)
  })

  it('encodes records around the starting buffer size', async () => {
    const codec = await AvroCodec.register<{ ts: number; text: string }>(
      registry as never,
      'framed-value',
      schema as never,
    )
    // Each record is larger than the last, so the buffer grows several times. A buffer grown too
    // little cut short the records between one and two times its size.
    for (let length = 16_000; length <= 70_000; length += 1_999) {
      const record = { ts: length, text: 'c'.repeat(length) }

      const message = codec.encode(record)

      assert.deepEqual({ ...(await codec.decode(message)) }, record, `text of ${length} bytes`)
    }
  })

  it('returns independent buffers for consecutive records', async () => {
    const codec = await AvroCodec.register<{ ts: number; text: string }>(
      registry as never,
      'framed-value',
      schema as never,
    )

    const first = codec.encode({ ts: 1, text: 'first' })
    codec.encode({ ts: 2, text: 'second' })

    assert.deepEqual({ ...(await codec.decode(first)) }, { ts: 1, text: 'first' })
  })
})
