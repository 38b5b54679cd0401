import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { findUnknownEnvVars, loadConfig, redactConfig } from './config.js'
import { ConfigError } from './errors.js'
import { integerSetting, listSetting, mapSetting, textSetting, urlSetting } from './settings.js'

const TREE = {
  kafka: {
    brokers: listSetting({
      env: 'T_KAFKA_BROKERS',
      description: 'brokers',
      minItems: 1,
      default: ['a:1'],
    }),
    retries: integerSetting({ env: 'T_KAFKA_RETRIES', description: 'retries', min: 0, default: 5 }),
  },
  sink: {
    url: urlSetting({
      env: 'T_SINK_URL',
      description: 'webhook URL',
      optional: true,
      isSecret: true,
    }),
    headers: mapSetting({ env: 'T_SINK_HEADERS', description: 'headers', default: {} }),
    name: textSetting({ env: 'T_SINK_NAME', description: 'name', default: 'x' }),
  },
}

function writeFile(text: string): string {
  const folder = mkdtempSync(join(tmpdir(), 'peregrine-config-'))
  const path = join(folder, 'config.yaml')
  writeFileSync(path, text)
  return path
}

describe('loadConfig', () => {
  it('uses defaults when nothing is set', () => {
    const config = loadConfig(TREE, { env: {} })

    assert.deepEqual(config.kafka.brokers, ['a:1'])
    assert.equal(config.kafka.retries, 5)
    assert.equal(config.sink.url, undefined)
  })

  it('applies file, then environment, then flags', () => {
    const file = writeFile('kafka:\n  brokers: [f:1]\n  retries: 2\nsink:\n  name: from-file\n')

    const config = loadConfig(TREE, {
      file,
      env: { T_KAFKA_RETRIES: '3', T_SINK_NAME: 'from-env' },
      overrides: { 'sink.name': 'from-flag' },
    })

    assert.deepEqual(config.kafka.brokers, ['f:1'])
    assert.equal(config.kafka.retries, 3)
    assert.equal(config.sink.name, 'from-flag')
  })

  it('keeps a map setting whole from the file', () => {
    const file = writeFile('sink:\n  headers:\n    X-Token: abc\n    X-Other: def\n')

    const config = loadConfig(TREE, { file, env: {} })

    assert.deepEqual(config.sink.headers, { 'X-Token': 'abc', 'X-Other': 'def' })
  })

  it('lists every invalid value with file, line and key', () => {
    const file = writeFile('kafka:\n  retries: -1\n  brokers: []\nsink:\n  colour: blue\n')

    const error = captureError(() => loadConfig(TREE, { file, env: { T_SINK_URL: 'ftp://x' } }))

    assert.ok(error instanceof ConfigError)
    assert.match(error.message, /config\.yaml:2: kafka\.retries=-1: must be at least 0/)
    assert.match(error.message, /config\.yaml:3: kafka\.brokers=\[\]: must have at least 1 item/)
    assert.match(error.message, /config\.yaml:5: unknown key "sink\.colour"/)
    assert.match(error.message, /T_SINK_URL="\[redacted\]": must be an http:\/\/ or https:\/\/ URL/)
  })

  it('rejects text that is not a whole number', () => {
    const error = captureError(() => loadConfig(TREE, { env: { T_KAFKA_RETRIES: '5x' } }))

    assert.match(error.message, /T_KAFKA_RETRIES="5x": must be a whole number/)
  })

  it('names the line of a YAML syntax error', () => {
    const file = writeFile('kafka:\n  retries: 1\n bad: [\n')

    const error = captureError(() => loadConfig(TREE, { file, env: {} }))

    assert.match(error.message, /config\.yaml:\d+: config file is not valid YAML/)
  })

  it('reports a missing config file with its path', () => {
    const error = captureError(() =>
      loadConfig(TREE, { file: '/nonexistent/peregrine.yaml', env: {} }),
    )

    assert.match(error.message, /cannot read config file \/nonexistent\/peregrine\.yaml/)
  })

  it('hides parser details of a secret value', () => {
    const tree = {
      headers: mapSetting({
        env: 'T_HEADERS',
        description: 'headers',
        isSecret: true,
        default: {},
      }),
    }

    const error = captureError(() =>
      loadConfig(tree, { env: { T_HEADERS: '{"X-Api-Key": s3cr3tT0k3n}' } }),
    )

    assert.match(error.message, /T_HEADERS="\[redacted\]": must be a JSON object/)
    assert.equal(error.message.includes('s3cr3t'), false)
  })

  it('returns a frozen object', () => {
    const config = loadConfig(TREE, { env: {} })

    assert.ok(Object.isFrozen(config))
    assert.ok(Object.isFrozen(config.kafka.brokers))
  })
})

describe('findUnknownEnvVars', () => {
  it('suggests the setting a misspelt variable was meant to be', () => {
    const unknown = findUnknownEnvVars(
      TREE,
      { T_KAFKA_BROKER: 'x:1', T_SINK_NAME: 'y', HOME: '/' },
      'T_',
    )

    assert.deepEqual(unknown, [{ name: 'T_KAFKA_BROKER', suggestion: 'T_KAFKA_BROKERS' }])
  })

  it('leaves unrelated names without a suggestion', () => {
    const unknown = findUnknownEnvVars(TREE, { T_SOMETHING_ELSE_ENTIRELY: '1' }, 'T_')

    assert.deepEqual(unknown, [{ name: 'T_SOMETHING_ELSE_ENTIRELY' }])
  })

  it('accepts variables listed as known', () => {
    assert.deepEqual(findUnknownEnvVars(TREE, { T_BUILD_SKIP: '1' }, 'T_', ['T_BUILD_SKIP']), [])
  })
})

describe('redactConfig', () => {
  it('replaces secret values', () => {
    const config = loadConfig(TREE, { env: { T_SINK_URL: 'https://hooks.example/secret-token' } })

    const redacted = redactConfig(TREE, config) as { sink: { url: string; name: string } }

    assert.equal(redacted.sink.url, '[redacted]')
    assert.equal(redacted.sink.name, 'x')
  })
})

function captureError(action: () => unknown): Error {
  try {
    action()
  } catch (error) {
    return error as Error
  }
  assert.fail('expected an error')
}
