import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { StackError } from '../core/errors.js'
import { silentLogger } from '../core/logger.js'
import { ManagedProcess } from './managed-process.js'
import { waitUntilReady } from './stack-component.js'
import type { StackComponent } from './stack-component.js'

const STOP_TIMEOUT_MS = 5000

/** A component whose process runs `program` with Node and whose probe always fails. */
function fakeComponent(dataDir: string, program: string): StackComponent & { marker: string } {
  const marker = `peregrine-test-${randomUUID()}`
  const managed = new ManagedProcess({
    name: 'fake',
    dataDir,
    commandMarker: marker,
    logger: silentLogger(),
  })
  return {
    marker,
    name: 'broker',
    title: 'fake broker',
    address: '127.0.0.1:1',
    process: managed,
    ports: [],
    logger: silentLogger(),
    start: async () => await managed.start(process.execPath, ['-e', program, marker], dataDir),
    probe: async () => {
      throw new Error('connection refused')
    },
  }
}

describe('waitUntilReady', () => {
  let dataDir: string
  let component: StackComponent | undefined

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'peregrine-component-'))
  })

  afterEach(async () => {
    await component?.process.stop(STOP_TIMEOUT_MS)
    await rm(dataDir, { recursive: true, force: true })
  })

  it('reports the log tail on timeout', async () => {
    const program = "console.log('still loading classes'); setInterval(() => {}, 1000)"
    component = fakeComponent(dataDir, program)
    const pid = await component.start({ kafkaLibDir: '', registryJar: '' })

    const error = await waitUntilReady(component, pid, 1000).then(
      () => assert.fail('expected a StackError'),
      (thrown: unknown) => thrown,
    )

    assert.ok(error instanceof StackError)
    assert.match(error.message, /fake broker at 127\.0\.0\.1:1 was not ready within 1000 ms/)
    assert.match(error.message, /last probe: connection refused/)
    assert.match(error.message, /PEREGRINE_STACK_START_TIMEOUT_MS/)
    assert.match(error.message, /still loading classes/)
  })

  it('fails early when the process exits', async () => {
    const program = "console.error('Address already in use'); process.exit(1)"
    component = fakeComponent(dataDir, program)
    const pid = await component.start({ kafkaLibDir: '', registryJar: '' })
    const startedAt = Date.now()

    const error = await waitUntilReady(component, pid, 60_000).then(
      () => assert.fail('expected a StackError'),
      (thrown: unknown) => thrown,
    )

    assert.ok(error instanceof StackError)
    assert.match(error.message, new RegExp(`exited during start-up \\(pid ${pid}\\)`))
    assert.match(error.message, /Address already in use/)
    assert.ok(Date.now() - startedAt < 30_000, 'waited for the whole timeout')
  })
})
