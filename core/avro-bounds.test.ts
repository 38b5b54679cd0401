import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SYSCALL_EVENT_SCHEMA } from '../schemas/index.js'
import { sampleEvent } from '../tests/support/events.js'
import { checkAvroBounds } from './avro-bounds.js'
import { encodeZigzagVarint } from './exact-long.js'
import { parseSchema } from './avro-codec.js'

const eventType = parseSchema(SYSCALL_EVENT_SCHEMA)

/** Encodes the event up to the field `args` (a map), then appends `tail` in its place. */
function eventWithForgedArgs(tail: Buffer): Buffer {
  const head = parseSchema({
    type: 'record',
    name: 'Head',
    fields: (SYSCALL_EVENT_SCHEMA as { fields: Array<{ name: string }> }).fields.slice(
      0,
      7,
    ) as never,
  })
  const event = sampleEvent()
  return Buffer.concat([head.toBuffer(event), tail])
}

function varint(value: number): Buffer {
  return Buffer.from(encodeZigzagVarint(value))
}

describe('checkAvroBounds', () => {
  it('accepts a complete event', () => {
    const body = eventType.toBuffer(sampleEvent({ container: null }))

    assert.doesNotThrow(() => checkAvroBounds(eventType, body, 0))
  })

  it('rejects a map that claims far more entries than bytes', () => {
    const forged = eventWithForgedArgs(
      Buffer.concat([varint(2 ** 50), Buffer.from([2, 0x61, 2, 0x62])]),
    )

    assert.throws(
      () => checkAvroBounds(eventType, forged, 0),
      /block claims \d+ items with \d+ bytes left/,
    )
  })

  it('rejects a negative block count whose size is a lie', () => {
    const forged = eventWithForgedArgs(
      Buffer.concat([varint(-(2 ** 32)), varint(4), Buffer.alloc(4)]),
    )

    assert.throws(() => checkAvroBounds(eventType, forged, 0), /block claims/)
  })

  it('rejects a string longer than the bytes left', () => {
    const forged = eventWithForgedArgs(Buffer.concat([varint(1), varint(1000), Buffer.from('x')]))

    assert.throws(() => checkAvroBounds(eventType, forged, 0), /length 1000 with \d+ bytes left/)
  })

  it('rejects a truncated event', () => {
    const body = eventType.toBuffer(sampleEvent())

    assert.throws(() => checkAvroBounds(eventType, body.subarray(0, body.length - 3), 0))
  })

  it('rejects bytes after the value', () => {
    const body = Buffer.concat([eventType.toBuffer(sampleEvent()), Buffer.from([0])])

    assert.throws(() => checkAvroBounds(eventType, body, 0), /1 bytes left after the value/)
  })

  it('rejects a union branch that does not exist', () => {
    const type = parseSchema({
      type: 'record',
      name: 'U',
      fields: [{ name: 'u', type: ['null', 'string'] }],
    })

    assert.throws(() => checkAvroBounds(type, varint(5), 0), /union branch 5 does not exist/)
  })

  it('rejects a varint longer than ten bytes', () => {
    const type = parseSchema({ type: 'record', name: 'L', fields: [{ name: 'l', type: 'long' }] })

    assert.throws(() => checkAvroBounds(type, Buffer.alloc(11, 0xff), 0), /longer than 10 bytes/)
  })
})
