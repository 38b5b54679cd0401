import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError } from '../../core/errors.js'
import { loadPeregrineConfig } from '../../core/peregrine-config.js'
import { createDestination } from './sink.js'

describe('createDestination', () => {
  it('rejects a webhook header with a line break, without showing its value', () => {
    const config = loadPeregrineConfig({
      env: {
        PEREGRINE_SINK_WEBHOOK_URL: 'http://127.0.0.1:1/hook',
        PEREGRINE_SINK_WEBHOOK_HEADERS: '{"X-Token":"abc\\r\\nInjected: yes"}',
      },
    })

    assert.throws(
      () => createDestination('webhook', config),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError)
        assert.match(error.message, /header "X-Token" has an invalid name or value/)
        assert.equal(error.message.includes('Injected'), false)
        return true
      },
    )
  })

  it('requires a URL for the webhook sink', () => {
    assert.throws(
      () => createDestination('webhook', loadPeregrineConfig({ env: {} })),
      /needs a URL; pass --url/,
    )
  })
})
