import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Schema } from 'avsc'
import { AvroCodec, createSchemaRegistry } from '../core/avro-codec.js'
import { StackError } from '../core/errors.js'
import { createKafkaClient } from '../core/kafka.js'
import { silentLogger } from '../core/logger.js'
import { loadPeregrineConfig } from '../core/peregrine-config.js'
import type { PeregrineConfig } from '../core/peregrine-config.js'
import { startLocalStack, stackStatus, stopLocalStack } from './local-stack.js'
import type { StackStartResult } from './local-stack.js'
import { findFreePort } from './port-check.js'

/** Covers a first run that fetches about 150 MB from Maven Central on a slow network. */
const SUITE_TIMEOUT_MS = 15 * 60_000
const CONSUME_TIMEOUT_MS = 30_000
const TOPIC = 'stack-test'
const SUBJECT = `${TOPIC}-value`
const TEST_SCHEMA: Schema = {
  type: 'record',
  name: 'StackTestRecord',
  namespace: 'peregrine.test',
  fields: [{ name: 'message', type: 'string' }],
}

/**
 * Builds the stack config from the environment (so PEREGRINE_STACK_CACHE_DIR shares a fetched
 * cache) with a data folder and ports of the test's own, to keep clear of a stack already running.
 */
async function testConfig(dataDir: string): Promise<PeregrineConfig> {
  return loadPeregrineConfig({
    env: process.env,
    overrides: {
      'stack.dataDir': dataDir,
      'stack.kafkaPort': String(await findFreePort()),
      'stack.controllerPort': String(await findFreePort()),
      'stack.registryPort': String(await findFreePort()),
    },
  })
}

/** Tells whether `pid` runs; an exited child not yet reaped by its parent (a zombie) does not. */
function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
  return state !== 'Z'
}

async function produceAndConsume(config: PeregrineConfig, value: string): Promise<string> {
  const client = createKafkaClient(config, 'stack-test', silentLogger())
  const producer = client.producer()
  const consumer = client.consumer({ groupId: 'stack-test' })
  await producer.connect()
  await consumer.connect()
  try {
    await producer.send({ topic: TOPIC, messages: [{ value }] })
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true })
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no message within ${CONSUME_TIMEOUT_MS} ms`)),
        CONSUME_TIMEOUT_MS,
      )
      consumer
        .run({
          eachMessage: async ({ message }) => {
            clearTimeout(timer)
            resolve(message.value?.toString() ?? '')
          },
        })
        .catch(reject)
    })
  } finally {
    await consumer.disconnect()
    await producer.disconnect()
  }
}

describe('local stack', { timeout: SUITE_TIMEOUT_MS }, () => {
  let dataDir: string
  let config: PeregrineConfig
  let clientConfig: PeregrineConfig
  let firstStart: StackStartResult
  let schemaId: number

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'peregrine-stack-'))
    config = await testConfig(dataDir)
  })

  after(async () => {
    await stopLocalStack(config, silentLogger())
    await rm(dataDir, { recursive: true, force: true })
  })

  it('starts both on the configured ports', async () => {
    firstStart = await startLocalStack(config, silentLogger())

    assert.deepEqual(firstStart.brokers, [`127.0.0.1:${config.stack.kafkaPort}`])
    assert.equal(
      firstStart.registryUrl,
      `http://127.0.0.1:${config.stack.registryPort}/apis/ccompat/v7`,
    )
    assert.deepEqual(firstStart.alreadyRunning, [])
    clientConfig = loadPeregrineConfig({
      overrides: {
        'kafka.brokers': firstStart.brokers.join(','),
        'registry.url': firstStart.registryUrl,
      },
    })
  })

  it('serves admin calls and a round trip', async () => {
    const admin = createKafkaClient(clientConfig, 'stack-test', silentLogger()).admin()
    await admin.connect()
    const cluster = await admin.describeCluster().finally(() => admin.disconnect())

    const consumed = await produceAndConsume(clientConfig, 'hello from the stack test')

    assert.equal(cluster.brokers.length, 1)
    assert.equal(cluster.brokers[0].port, config.stack.kafkaPort)
    assert.equal(consumed, 'hello from the stack test')
  })

  it('serves the Confluent registry API', async () => {
    const subjectsResponse = await fetch(`${firstStart.registryUrl}/subjects`)
    const unknownConfig = await fetch(`${firstStart.registryUrl}/config/no-such-subject`)
    const registry = createSchemaRegistry({ url: firstStart.registryUrl })

    const codec = await AvroCodec.register(registry, SUBJECT, TEST_SCHEMA)
    schemaId = codec.schemaId

    assert.equal(subjectsResponse.status, 200)
    assert.deepEqual(await subjectsResponse.json(), [])
    assert.equal(unknownConfig.status, 404)
    assert.equal(((await unknownConfig.json()) as { error_code: number }).error_code, 40401)
    assert.equal(await registry.getLatestSchemaId(SUBJECT), schemaId)
  })

  it('reports both components running and ready', async () => {
    const status = await stackStatus(config)

    assert.equal(status.isReady, true)
    for (const component of status.components) {
      assert.equal(component.isRunning, true, component.name)
      assert.equal(component.isReady, true, component.name)
      assert.equal(typeof component.pid, 'number', component.name)
    }
  })

  it('second up leaves components running', async () => {
    const before = await stackStatus(config)

    const secondStart = await startLocalStack(config, silentLogger())
    const afterward = await stackStatus(config)

    assert.deepEqual(secondStart.alreadyRunning, ['broker', 'registry'])
    assert.deepEqual(
      afterward.components.map((component) => component.pid),
      before.components.map((component) => component.pid),
    )
  })

  it('stops both processes on down', async () => {
    const running = await stackStatus(config)
    const pids = running.components.map((component) => component.pid ?? 0)

    const outcomes = await stopLocalStack(config, silentLogger())
    const stopped = await stackStatus(config)

    assert.deepEqual(outcomes, { broker: 'terminated', registry: 'terminated' })
    for (const pid of pids) assert.equal(isProcessAlive(pid), false, `pid ${pid} still runs`)
    assert.equal(existsSync(join(dataDir, 'broker.pid')), false)
    assert.equal(existsSync(join(dataDir, 'registry.pid')), false)
    assert.equal(stopped.isReady, false)
    for (const component of stopped.components) {
      assert.equal(component.isRunning, false, component.name)
    }
  })

  it('starts one stack for two parallel ups', async () => {
    const starts = await Promise.all([
      startLocalStack(config, silentLogger()),
      startLocalStack(config, silentLogger()),
    ])

    const alreadyRunningCounts = starts.map((start) => start.alreadyRunning.length).sort()
    assert.deepEqual(alreadyRunningCounts, [0, 2])
  })

  it('keeps topics and schemas across a restart', async () => {
    const registry = createSchemaRegistry({ url: firstStart.registryUrl })
    const admin = createKafkaClient(clientConfig, 'stack-test', silentLogger()).admin()
    await admin.connect()

    const topics = await admin.listTopics().finally(() => admin.disconnect())
    const latestId = await registry.getLatestSchemaId(SUBJECT)
    await stopLocalStack(config, silentLogger())

    assert.ok(topics.includes(TOPIC), `topics after restart: ${topics.join(', ')}`)
    assert.equal(latestId, schemaId)
  })

  it('up rejects a taken broker port', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen({ port: 0, host: '127.0.0.1' }, resolve))
    const takenPort = (blocker.address() as { port: number }).port
    const blockedConfig = loadPeregrineConfig({
      env: process.env,
      overrides: {
        'stack.dataDir': dataDir,
        'stack.kafkaPort': String(takenPort),
        'stack.controllerPort': String(config.stack.controllerPort),
        'stack.registryPort': String(config.stack.registryPort),
      },
    })

    const error = await startLocalStack(blockedConfig, silentLogger()).then(
      () => assert.fail('expected a StackError'),
      (thrown: unknown) => thrown,
    )
    await new Promise<void>((resolve) => blocker.close(() => resolve()))
    const status = await stackStatus(blockedConfig)

    assert.ok(error instanceof StackError)
    assert.match(error.message, new RegExp(`port ${takenPort} on 127.0.0.1 is already in use`))
    assert.match(error.message, /PEREGRINE_STACK_KAFKA_PORT or --kafka-port/)
    assert.equal(status.components.filter((component) => component.isRunning).length, 0)
  })
})
