import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { renderBrokerProperties } from './kafka-broker.js'

function parseProperties(text: string): Map<string, string> {
  const entries = text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const separator = line.indexOf('=')
      return [line.slice(0, separator), line.slice(separator + 1)] as [string, string]
    })
  return new Map(entries)
}

describe('renderBrokerProperties', () => {
  const properties = parseProperties(
    renderBrokerProperties({ kafkaPort: 29092, controllerPort: 29093, logDir: '/tmp/data/kraft' }),
  )

  it('runs one node as broker and controller', () => {
    assert.equal(properties.get('process.roles'), 'broker,controller')
    assert.equal(properties.get('node.id'), '1')
    assert.equal(properties.get('controller.quorum.voters'), '1@127.0.0.1:29093')
    assert.equal(properties.get('controller.listener.names'), 'CONTROLLER')
  })

  it('listens only on 127.0.0.1', () => {
    assert.equal(
      properties.get('listeners'),
      'PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093',
    )
    assert.equal(properties.get('advertised.listeners'), 'PLAINTEXT://127.0.0.1:29092')
  })

  it('keeps the data in the given folder', () => {
    assert.equal(properties.get('log.dirs'), '/tmp/data/kraft')
  })

  it('gives internal topics one replica and one partition', () => {
    assert.equal(properties.get('offsets.topic.replication.factor'), '1')
    assert.equal(properties.get('offsets.topic.num.partitions'), '1')
    assert.equal(properties.get('transaction.state.log.replication.factor'), '1')
    assert.equal(properties.get('transaction.state.log.min.isr'), '1')
    assert.equal(properties.get('transaction.state.log.num.partitions'), '1')
    assert.equal(properties.get('share.coordinator.state.topic.replication.factor'), '1')
    assert.equal(properties.get('share.coordinator.state.topic.min.isr'), '1')
  })

  it('lets the first consumer group join without delay', () => {
    assert.equal(properties.get('group.initial.rebalance.delay.ms'), '0')
  })

  it('escapes backslashes in the data folder path', () => {
    const text = renderBrokerProperties({
      kafkaPort: 1,
      controllerPort: 2,
      logDir: 'C:\\stack\\kraft',
    })

    assert.equal(parseProperties(text).get('log.dirs'), 'C:\\\\stack\\\\kraft')
  })
})
