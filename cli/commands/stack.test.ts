import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { PROJECT_ROOT } from '../../schemas/index.js'
import { findFreePort } from '../../stack/port-check.js'
import { NOT_READY_EXIT_CODE } from './stack.js'

const BIN = join(PROJECT_ROOT, 'bin', 'peregrine.js')

describe('peregrine stack', () => {
  let dataDir: string
  let portFlags: string[]

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'peregrine-stack-cli-'))
    portFlags = [
      '--kafka-port',
      String(await findFreePort()),
      '--controller-port',
      String(await findFreePort()),
      '--registry-port',
      String(await findFreePort()),
    ]
  })

  after(async () => {
    await rm(dataDir, { recursive: true, force: true })
  })

  function runStack(...args: string[]): ReturnType<typeof spawnSync> {
    return spawnSync(process.execPath, [BIN, 'stack', ...args], { encoding: 'utf8' })
  }

  it('status exits 3 when nothing runs', () => {
    const result = runStack('status', '--data-dir', dataDir, ...portFlags)

    assert.equal(result.status, NOT_READY_EXIT_CODE, String(result.stderr))
    assert.match(
      String(result.stdout),
      /^broker\s+stopped\s+pid -\s+not ready\s+127\.0\.0\.1:\d+$/m,
    )
    assert.match(
      String(result.stdout),
      /^registry\s+stopped\s+pid -\s+not ready\s+http:\/\/127\.0\.0\.1:\d+\/apis\/ccompat\/v7$/m,
    )
  })

  it('down succeeds when nothing runs', () => {
    const result = runStack('down', '--data-dir', dataDir, ...portFlags)

    assert.equal(result.status, 0, String(result.stderr))
    assert.match(String(result.stdout), /Kafka broker was not running/)
    assert.match(String(result.stdout), /Schema registry was not running/)
  })

  it('up rejects equal Kafka and controller ports', () => {
    const result = runStack(
      'up',
      '--data-dir',
      dataDir,
      '--kafka-port',
      '29555',
      '--controller-port',
      '29555',
    )

    assert.equal(result.status, 1)
    assert.match(String(result.stderr), /PEREGRINE_STACK_FAILED/)
    assert.match(
      String(result.stderr),
      /PEREGRINE_STACK_KAFKA_PORT and PEREGRINE_STACK_CONTROLLER_PORT are both 29555/,
    )
  })

  it('up rejects a port that is not a number', () => {
    const result = runStack('up', '--data-dir', dataDir, '--registry-port', 'eighty')

    assert.equal(result.status, 1)
    assert.match(String(result.stderr), /"eighty": must be a whole number/)
  })
})
