import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { StackError } from '../core/errors.js'
import { silentLogger } from '../core/logger.js'
import { loadPeregrineConfig } from '../core/peregrine-config.js'
import { SchemaRegistryServer } from './schema-registry-server.js'

function registryOnPort(
  port: number,
  dataDir = '/tmp/peregrine-registry-test',
): SchemaRegistryServer {
  const config = loadPeregrineConfig({ overrides: { 'stack.registryPort': String(port) } })
  return new SchemaRegistryServer(config, dataDir, silentLogger())
}

describe('SchemaRegistryServer', () => {
  let server: Server
  let port: number
  let subjectsBody = '[]'

  before(async () => {
    server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(subjectsBody)
    })
    await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, resolve))
    port = (server.address() as { port: number }).port
  })

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  it('serves the Confluent API on 127.0.0.1', () => {
    assert.equal(registryOnPort(18181).address, 'http://127.0.0.1:18181/apis/ccompat/v7')
  })

  it('rejects a data folder with a semicolon', () => {
    assert.throws(
      () => registryOnPort(18181, '/tmp/odd;folder'),
      (error: unknown) => {
        assert.ok(error instanceof StackError)
        assert.match(error.message, /\/tmp\/odd;folder contains ";"/)
        assert.match(error.message, /PEREGRINE_STACK_DATA_DIR or --data-dir/)
        return true
      },
    )
  })

  it('probe accepts an empty subject list', async () => {
    subjectsBody = '[]'

    await registryOnPort(port).probe(2000)
  })

  it('probe rejects a body that is not a list', async () => {
    subjectsBody = '{"status":"starting"}'

    await assert.rejects(
      registryOnPort(port).probe(2000),
      /returned \{"status":"starting"\}, not a list/,
    )
  })
})
