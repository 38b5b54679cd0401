import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, rmdirSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'

import { probeAvailability } from '../native/src/index.js'
import { EbpfSource } from './ebpf-source.js'
import type { ChildProcess } from 'node:child_process'
import type { AddressInfo, Server } from 'node:net'
import type { SyscallEvent } from '../schemas/types.js'

const DEADLINE_MS = 10_000
const availability = probeAvailability()
const skip = availability.isAvailable ? false : `eBPF probe unavailable: ${availability.reason}`

describe('EbpfSource on the live kernel', { skip }, () => {
  const controller = new AbortController()
  const events: SyscallEvent[] = []
  let source: EbpfSource
  let consuming: Promise<void>

  before(async () => {
    source = new EbpfSource()
    consuming = (async () => {
      for await (const event of source.events(controller.signal)) events.push(event)
    })()
    // Exec a program until its event shows up, which proves the probe is attached.
    await waitFor(
      () => events.some((event) => event.proc.name === 'true'),
      () => spawnSync('/bin/true'),
    )
  })

  after(async () => {
    controller.abort()
    await consuming
  })

  it('captures exec, file and TCP events of a child', async (t) => {
    const server = await listen()
    t.after(() => server.close())
    const port = (server.address() as AddressInfo).port
    const file = join(mkdtempSync(join(tmpdir(), 'peregrine-live-')), 'note.txt')
    const script = `echo hello > ${file}; exec 3<>/dev/tcp/127.0.0.1/${port}; /bin/cat ${file} > /dev/null; true`

    // Without HOME, as in CI, bash looks its user up, so glibc makes unix connects to nscd first.
    const child = spawn('/bin/bash', ['-c', script], { env: { PATH: '/usr/bin:/bin' } })
    await exited(child)
    const pid = child.pid as number

    const write = await waitForEvent(
      events,
      (e) => e.type === 'openat' && e.fd?.name === file && e.proc.pid === pid,
    )
    assert.match(write.args.flags, /O_WRONLY/)
    assert.match(write.args.flags, /O_CREAT/)
    assert.equal(write.proc.name, 'bash')
    assert.equal(write.user.uid, process.getuid?.())
    assert.equal(write.ancestors[0]?.pid, process.pid)

    const cat = await waitForEvent(
      events,
      (e) => e.type === 'execve' && e.proc.name === 'cat' && e.proc.ppid === pid,
    )
    assert.deepEqual(cat.proc.args, [file])
    assert.equal(cat.proc.exepath, '/bin/cat')
    assert.equal(cat.ancestors[0]?.name, 'bash')

    const read = await waitForEvent(
      events,
      (e) => e.type === 'openat' && e.proc.name === 'cat' && e.fd?.name === file,
    )
    assert.match(read.args.flags, /O_RDONLY/)

    const connect = await waitForEvent(
      events,
      (e) => e.type === 'connect' && e.proc.pid === pid && e.fd?.sockfamily === 'ip',
    )
    assert.equal(connect.fd?.sip, '127.0.0.1')
    assert.equal(connect.fd?.sport, port)
    assert.equal(connect.fd?.l4proto, 'tcp')
    assert.ok((connect.fd?.cport ?? 0) > 0)
    assert.equal(connect.args.addr, `127.0.0.1:${port}`)
  })

  it('finds the container of a process moved into a docker cgroup', async (t) => {
    const hierarchy = existsSync('/sys/fs/cgroup/cgroup.controllers')
      ? '/sys/fs/cgroup'
      : '/sys/fs/cgroup/pids'
    if (!existsSync(hierarchy)) return t.skip(`no cgroup hierarchy at ${hierarchy}`)
    const id = randomBytes(32).toString('hex')
    const parent = join(hierarchy, 'docker')
    const createdParent = !existsSync(parent)
    const dir = join(parent, id)
    mkdirSync(dir, { recursive: true })

    try {
      // The child waits on stdin, so it is moved before it execs the program under test.
      const child = spawn('/bin/sh', ['-c', 'read line; exec /bin/cat /etc/hostname'], {
        stdio: ['pipe', 'ignore', 'ignore'],
      })
      writeFileSync(join(dir, 'cgroup.procs'), String(child.pid))
      child.stdin?.end('go\n')
      await exited(child)

      const announcement = await waitForEvent(
        events,
        (e) => e.type === 'container' && e.container?.full_id === id,
      )
      assert.equal(announcement.container?.id, id.slice(0, 12))
      assert.equal(announcement.container?.type, 'docker')
      const cat = await waitForEvent(
        events,
        (e) => e.type === 'execve' && e.proc.pid === child.pid && e.proc.name === 'cat',
      )
      assert.equal(cat.container?.id, id.slice(0, 12))
      assert.equal(cat.proc.name, 'cat')
    } finally {
      rmdirSync(dir)
      if (createdParent) rmdirSync(parent)
    }
  })

  it('reports no kernel drops at this rate', () => {
    const stats = source.stats()

    assert.equal(stats.dropped.ring_full, 0)
    assert.equal(stats.dropped.decode_truncated, 0)
    assert.ok(stats.eventsRead > 0)
  })
})

async function waitFor(
  isDone: () => boolean,
  step: () => unknown = () => undefined,
): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS
  while (!isDone()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${DEADLINE_MS} ms`)
    step()
    await sleep(20)
  }
}

async function waitForEvent(
  events: SyscallEvent[],
  match: (event: SyscallEvent) => boolean,
): Promise<SyscallEvent> {
  await waitFor(() => events.some(match))
  return events.find(match) as SyscallEvent
}

function listen(): Promise<Server> {
  const server = createServer((socket) => socket.end())
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => child.once('exit', () => resolve()))
}
