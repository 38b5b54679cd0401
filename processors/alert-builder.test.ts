import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { formatEventTime, formatOutputTime } from './alert-builder.js'

describe('formatEventTime', () => {
  it('writes nine fraction digits like Falco', () => {
    assert.equal(formatEventTime(1470327477882054739n), '2016-08-04T16:17:57.882054739Z')
  })

  it('pads small fractions with zeros', () => {
    assert.equal(formatEventTime(1000000005n), '1970-01-01T00:00:01.000000005Z')
  })

  it('accepts plain numbers', () => {
    assert.equal(formatEventTime(0), '1970-01-01T00:00:00.000000000Z')
  })

  it('handles times before the epoch', () => {
    assert.equal(formatEventTime(-1n), '1969-12-31T23:59:59.999999999Z')
  })
})

describe('formatOutputTime', () => {
  it('keeps the time of day with nanoseconds', () => {
    assert.equal(formatOutputTime(1470327477882054739n), '16:17:57.882054739')
  })
})
