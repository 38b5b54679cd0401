import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { loadPeregrineConfig } from './peregrine-config.js'

describe('loadPeregrineConfig', () => {
  it('rejects a broker without a port', () => {
    assert.throws(
      () => loadPeregrineConfig({ env: { PEREGRINE_KAFKA_BROKERS: 'localhost' } }),
      /item "localhost" must be host:port/,
    )
  })

  it('accepts host names, IPv4 and bracketed IPv6 brokers', () => {
    const config = loadPeregrineConfig({
      env: { PEREGRINE_KAFKA_BROKERS: 'kafka-0.kafka:9092,10.0.0.1:9093,[::1]:9094' },
    })

    assert.deepEqual(config.kafka.brokers, ['kafka-0.kafka:9092', '10.0.0.1:9093', '[::1]:9094'])
  })

  it('requires SASL credentials when a mechanism is set', () => {
    assert.throws(
      () => loadPeregrineConfig({ env: { PEREGRINE_KAFKA_SASL_MECHANISM: 'plain' } }),
      /needs PEREGRINE_KAFKA_SASL_USERNAME and PEREGRINE_KAFKA_SASL_PASSWORD/,
    )
  })

  it('leaves the metrics port unset so each role picks its default', () => {
    assert.equal(loadPeregrineConfig({ env: {} }).metrics.port, undefined)
  })
})
