import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FairShare } from './fair-share.js'

describe('FairShare', () => {
  it('limits each process per second', () => {
    const share = new FairShare(3)
    const flood = Array.from({ length: 10 }, () => share.tryTake(100, 5_000))
    assert.deepEqual(flood.filter(Boolean).length, 3)
    assert.equal(share.tryTake(200, 5_100), true, 'a quiet process keeps its own share')
    assert.equal(share.tryTake(100, 5_999), false)
    assert.equal(share.tryTake(100, 6_000), true, 'a new second restarts the counts')
  })

  it('rejects processes past the table size', () => {
    const share = new FairShare(5, 2)
    assert.equal(share.tryTake(1, 0), true)
    assert.equal(share.tryTake(2, 0), true)
    assert.equal(share.tryTake(3, 0), false)
    assert.equal(share.tryTake(1, 0), true, 'processes already counted keep their share')
    assert.equal(share.tryTake(3, 1_000), true)
  })

  it('keeps nothing with a share of 0', () => {
    assert.equal(new FairShare(0).tryTake(1, 0), false)
  })

  it('rejects a negative share', () => {
    assert.throws(() => new FairShare(-1), /perProcessPerSecond must be 0 or more/)
  })
})
