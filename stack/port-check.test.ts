import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import type { Server } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { StackError } from '../core/errors.js'
import { ensureDistinctPorts, ensurePortFree, findFreePort } from './port-check.js'

describe('ensurePortFree', () => {
  let server: Server
  let takenPort: number

  before(async () => {
    server = createServer()
    await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, resolve))
    takenPort = (server.address() as { port: number }).port
  })

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  it('names the taken port and its setting', async () => {
    const setting = { port: takenPort, env: 'PEREGRINE_STACK_KAFKA_PORT', flag: '--kafka-port' }

    const error = await ensurePortFree(setting).then(
      () => assert.fail('expected a StackError'),
      (thrown: unknown) => thrown,
    )

    assert.ok(error instanceof StackError)
    assert.match(error.message, new RegExp(`port ${takenPort} on 127.0.0.1 is already in use`))
    assert.match(error.message, /PEREGRINE_STACK_KAFKA_PORT or --kafka-port/)
  })

  it('accepts a port nobody listens on', async () => {
    const port = await findFreePort()

    await ensurePortFree({ port, env: 'PEREGRINE_STACK_REGISTRY_PORT', flag: '--registry-port' })
  })
})

describe('ensureDistinctPorts', () => {
  it('rejects two settings with the same port', () => {
    assert.throws(
      () =>
        ensureDistinctPorts([
          { port: 9092, env: 'PEREGRINE_STACK_KAFKA_PORT', flag: '--kafka-port' },
          { port: 8081, env: 'PEREGRINE_STACK_REGISTRY_PORT', flag: '--registry-port' },
          { port: 9092, env: 'PEREGRINE_STACK_CONTROLLER_PORT', flag: '--controller-port' },
        ]),
      /PEREGRINE_STACK_KAFKA_PORT and PEREGRINE_STACK_CONTROLLER_PORT are both 9092/,
    )
  })

  it('accepts three different ports', () => {
    ensureDistinctPorts([
      { port: 9092, env: 'PEREGRINE_STACK_KAFKA_PORT', flag: '--kafka-port' },
      { port: 9093, env: 'PEREGRINE_STACK_CONTROLLER_PORT', flag: '--controller-port' },
      { port: 8081, env: 'PEREGRINE_STACK_REGISTRY_PORT', flag: '--registry-port' },
    ])
  })
})
