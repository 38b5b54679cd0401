import assert from 'node:assert/strict'
import { describe, it, mock } from 'node:test'
import { PeregrineError } from './errors.js'
import { backoffDelayMs, retry } from './retry.js'

const retriable = (): PeregrineError =>
  new PeregrineError('PEREGRINE_KAFKA_FAILED', 'flaky', { retriable: true })

describe('backoffDelayMs', () => {
  it('doubles the ceiling per attempt up to the maximum', () => {
    const options = { initialDelayMs: 100, maxDelayMs: 1000 }
    const top = (): number => 1

    assert.equal(backoffDelayMs(1, options, top), 100)
    assert.equal(backoffDelayMs(3, options, top), 400)
    assert.equal(backoffDelayMs(10, options, top), 1000)
  })

  it('keeps at least half the ceiling as jitter floor', () => {
    assert.equal(
      backoffDelayMs(2, { initialDelayMs: 100, maxDelayMs: 1000 }, () => 0),
      100,
    )
  })

  it('uses a longer requested delay such as Retry-After', () => {
    assert.equal(
      backoffDelayMs(1, { initialDelayMs: 100, maxDelayMs: 1000 }, () => 1, 5000),
      5000,
    )
  })
})

describe('retry', () => {
  it('retries retriable errors until success', async () => {
    mock.timers.enable({ apis: ['setTimeout'] })
    try {
      let calls = 0
      const pending = retry(
        async () => {
          calls++
          if (calls < 3) throw retriable()
          return 'done'
        },
        { maxAttempts: 5, initialDelayMs: 10, maxDelayMs: 10, random: () => 1 },
      )
      for (let step = 0; step < 5; step++) {
        await Promise.resolve()
        mock.timers.tick(10)
        await new Promise((resolve) => setImmediate(resolve))
      }

      assert.equal(await pending, 'done')
      assert.equal(calls, 3)
    } finally {
      mock.timers.reset()
    }
  })

  it('does not retry programmer errors', async () => {
    let calls = 0

    await assert.rejects(
      retry(
        async () => {
          calls++
          throw new TypeError('bug')
        },
        { maxAttempts: 5, initialDelayMs: 1, maxDelayMs: 1 },
      ),
      TypeError,
    )
    assert.equal(calls, 1)
  })

  it('throws the last error when attempts run out', async () => {
    let calls = 0

    await assert.rejects(
      retry(
        async () => {
          calls++
          throw retriable()
        },
        { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1 },
      ),
      /flaky/,
    )
    assert.equal(calls, 3)
  })
})
