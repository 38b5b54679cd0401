import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { AddressInfo, Server } from 'node:net'
import {
  createFakeContainer,
  removeFakeContainer,
  runProgram,
} from '../../producer/scenarios/scenario-context.js'
import type { FakeContainer } from '../../producer/scenarios/scenario-context.js'
import { INITIAL_SCRATCH_BYTES, parseSchema } from '../../core/avro-codec.js'
import { SYSCALL_EVENT_SCHEMA } from '../../schemas/index.js'
import type { SyscallEvent } from '../../schemas/types.js'
import { integrationConfig, waitFor } from '../support/harness.js'
import {
  collectTopic,
  liveProbeSkip,
  repeatUntilSeen,
  startLiveProducer,
} from '../support/live-pipeline.js'
import type { LiveProducer, TopicCollector, ViewField } from '../support/live-pipeline.js'

const NOBODY = 65534

/** The fields of an event that tell whose it is, read without decoding the rest. */
const ORIGIN_FIELDS: ViewField[] = [
  {
    name: 'proc',
    type: {
      type: 'record',
      name: 'Process',
      fields: [{ name: 'ppid', type: ['null', 'long'], default: null }],
    },
  },
  {
    name: 'ancestors',
    type: {
      type: 'array',
      items: { type: 'record', name: 'Ancestor', fields: [{ name: 'pid', type: 'long' }] },
    },
  },
]

type Origin = Pick<SyscallEvent, 'ancestors'> & { proc: Pick<SyscallEvent['proc'], 'ppid'> }

/** Events of this test's own child processes, read back from the events topic. */
function isOwnDescendant(event: Origin): boolean {
  return event.proc.ppid === process.pid || event.ancestors.some((a) => a.pid === process.pid)
}

async function findEvent(
  collector: TopicCollector<SyscallEvent>,
  description: string,
  match: (event: SyscallEvent) => boolean,
): Promise<SyscallEvent> {
  await waitFor(description, () => collector.records.some(match))
  return collector.records.find(match) as SyscallEvent
}

function exited(
  program: string,
  args: string[],
  options: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv } = {},
) {
  const child = spawn(program, args, { stdio: 'ignore', ...options })
  return new Promise<number>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', () => resolve(child.pid as number))
  })
}

describe('live probe to the events topic', { skip: liveProbeSkip() }, () => {
  const config = integrationConfig()
  const workDir = mkdtempSync(join(tmpdir(), 'peregrine-live-'))
  let producer: LiveProducer
  let collector: TopicCollector<SyscallEvent>
  let server: Server

  before(async () => {
    collector = await collectTopic(
      config,
      config.topics.events,
      SYSCALL_EVENT_SCHEMA,
      (event) => isOwnDescendant(event as SyscallEvent),
      { fields: ORIGIN_FIELDS, keep: (view) => isOwnDescendant(view as Origin) },
    )
    producer = startLiveProducer(config, ['execve', 'openat', 'socket', 'connect'])
    await producer.ready
    server = createServer((socket) => socket.resume())
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  })

  after(async () => {
    server.close()
    const summary = await producer.stop()
    await collector.stop()
    rmSync(workDir, { recursive: true, force: true })
    assert.ok(summary.eventsPublished > 0)
  })

  it('publishes an exec with arguments, ancestry and uid', async () => {
    const marker = `marker-${randomBytes(4).toString('hex')}`
    const asNobody = process.getuid?.() === 0 ? { uid: NOBODY, gid: NOBODY } : {}

    const exec = await repeatUntilSeen(producer, collector, 'the execve of echo', async () => {
      const pid = await exited('/bin/echo', ['peregrine', marker], asNobody)
      return (e) => e.type === 'execve' && e.proc.pid === pid && e.proc.args.includes(marker)
    })
    assert.equal(exec.proc.name, 'echo')
    assert.equal(exec.proc.exepath, '/bin/echo')
    assert.deepEqual(exec.proc.args, ['peregrine', marker])
    assert.equal(exec.res, 0)
    assert.equal(exec.proc.ppid, process.pid)
    assert.equal(exec.ancestors[0]?.pid, process.pid)
    assert.equal(exec.ancestors[0]?.name, 'node')
    assert.equal(exec.user.uid, asNobody.uid ?? process.getuid?.())
    if (asNobody.uid !== undefined) assert.equal(exec.user.name, 'nobody')
    assert.equal(exec.container, null)
    assert.equal(exec.hostname, 'live-host')
  })

  it('publishes the open of a written file', async () => {
    const file = join(workDir, 'written.txt')

    const open = await repeatUntilSeen(producer, collector, `the openat of ${file}`, async () => {
      const pid = await exited('/bin/sh', ['-c', 'echo data > "$0"', file])
      return (e) => e.type === 'openat' && e.proc.pid === pid && e.fd?.name === file
    })
    assert.equal(open.proc.name, 'sh')
    assert.equal(open.fd?.type, 'file')
    assert.equal(open.fd?.typechar, 'f')
    assert.match(open.args.flags, /O_WRONLY/)
    assert.match(open.args.flags, /O_CREAT/)
    assert.match(open.args.flags, /O_TRUNC/)
    assert.ok((open.res ?? -1) >= 0)
    assert.equal(open.ancestors[0]?.pid, process.pid)
  })

  it('publishes an exec record over 16 KiB', async () => {
    const marker = `marker-${randomBytes(4).toString('hex')}`
    const filler = Array.from({ length: 100 }, (_, i) => `argument-${i}-`.padEnd(60, 'x'))
    const environment = Object.fromEntries(filler.map((value, i) => [`PEREGRINE_FILL_${i}`, value]))
    // Two node processes pass the long arguments down, so the record of the exec contains three
    // argument lists and an environment, each cut at the probe's limit.
    const relay = `require('node:child_process').spawnSync(process.argv[1], process.argv.slice(2))`
    const chain = ['-e', relay, process.execPath, '-e', relay, '/bin/echo', marker, ...filler]

    const exec = await repeatUntilSeen(
      producer,
      collector,
      'the execve of a long echo',
      async () => {
        await exited(process.execPath, chain, { env: { ...environment, PATH: '/usr/bin:/bin' } })
        return (e) => e.type === 'execve' && e.proc.name === 'echo' && e.proc.args[0] === marker
      },
    )
    const size = parseSchema(SYSCALL_EVENT_SCHEMA).toBuffer(exec).length
    assert.ok(size > INITIAL_SCRATCH_BYTES, `record of ${size} bytes`)
    assert.ok(exec.proc.args.length > 10)
    assert.equal(exec.ancestors[0]?.name, 'node')
    assert.equal(exec.ancestors[1]?.name, 'node')
  })

  it('publishes a TCP connect to loopback', async () => {
    const port = (server.address() as AddressInfo).port

    const connect = await repeatUntilSeen(
      producer,
      collector,
      `the connect to ${port}`,
      async () => {
        // Without HOME, as in CI, bash looks its user up, so glibc makes unix connects to nscd first.
        const pid = await exited('/bin/bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`], {
          env: { PATH: '/usr/bin:/bin' },
        })
        return (e) =>
          e.type === 'connect' && e.proc.pid === pid && e.args.addr === `127.0.0.1:${port}`
      },
    )
    assert.equal(connect.proc.name, 'bash')
    assert.equal(connect.res, 0)
    assert.equal(connect.fd?.type, 'ipv4')
    assert.equal(connect.fd?.l4proto, 'tcp')
    assert.equal(connect.fd?.sip, '127.0.0.1')
    assert.equal(connect.fd?.sport, port)
    assert.equal(connect.fd?.cip, '127.0.0.1')
    assert.ok((connect.fd?.cport ?? 0) > 0)
    assert.equal(connect.fd?.name, `127.0.0.1:${connect.fd?.cport}->127.0.0.1:${port}`)
    assert.equal(connect.args.addr, `127.0.0.1:${port}`)
  })

  it('publishes container id of a docker cgroup', async (t) => {
    let unused = createFakeContainer()
    if (unused === null) return t.skip('no writable cgroup hierarchy on this host')
    const fullIds: string[] = []

    const exec = await repeatUntilSeen(
      producer,
      collector,
      'the execve of cat in a container',
      async () => {
        const container = unused ?? (createFakeContainer() as FakeContainer)
        unused = null
        fullIds.push(container.fullId)
        try {
          await runProgram('/bin/cat', ['/etc/hostname'], container, { inContainer: true })
        } finally {
          await removeFakeContainer(container)
        }
        const id = container.fullId.slice(0, 12)
        return (e) => e.type === 'execve' && e.proc.name === 'cat' && e.container?.id === id
      },
    )
    const fullId = exec.container?.full_id as string
    assert.ok(fullIds.includes(fullId), `${fullId} is not a container this test made`)
    assert.equal(exec.container?.id, fullId.slice(0, 12))
    assert.equal(exec.container?.type, 'docker')
    assert.deepEqual(exec.proc.args, ['/etc/hostname'])
    assert.equal(exec.ancestors[0]?.pid, process.pid)
    const announcement = await findEvent(collector, `the container event of ${fullId}`, (e) => {
      return e.type === 'container' && e.container?.full_id === fullId
    })
    assert.equal(announcement.args.full_id, fullId)
  })
})
