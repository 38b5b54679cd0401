import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { loadPeregrineConfig } from '../core/peregrine-config.js'
import { renderBrokerProperties, storageFormatArgs } from './kafka-broker.js'
import { runCommand } from './run-command.js'

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

describe('storageFormatArgs', () => {
  const { cacheDir, kafkaVersion } = loadPeregrineConfig().stack
  const libDir = join(cacheDir, `kafka-${kafkaVersion}`, 'libs')
  const skip = existsSync(libDir) ? false : `no Kafka jars in ${libDir}; run "peregrine stack up"`

  it('formats with a cluster id starting with a dash', { skip }, async (t) => {
    const folder = mkdtempSync(join(tmpdir(), 'peregrine-format-'))
    t.after(() => rmSync(folder, { recursive: true, force: true }))
    const logDir = join(folder, 'kraft-logs')
    const propertiesFile = join(folder, 'server.properties')
    writeFileSync(
      propertiesFile,
      renderBrokerProperties({ kafkaPort: 29092, controllerPort: 29093, logDir }),
    )
    const clusterId = '-AbCdEfGhIjKlMnOpQrStUg'

    const result = await runCommand(
      'java',
      ['-cp', join(libDir, '*'), ...storageFormatArgs(clusterId, propertiesFile)],
      { timeoutMs: 120_000 },
    )

    assert.equal(result.exitCode, 0, result.output)
    const meta = readFileSync(join(logDir, 'meta.properties'), 'utf8')
    assert.match(meta, new RegExp(`^cluster\\.id=${clusterId}$`, 'm'))
  })
})
