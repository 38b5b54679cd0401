import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Server } from 'node:http'
import type { SyscallEvent } from '../../schemas/types.js'
import { EbpfSource } from '../ebpf-source.js'
import { FakeProbe, encodeExec, encodeSyscall } from '../ebpf/fake-probe.js'
import { SYSCALLS } from '../ebpf/syscall-table.js'
import { DockerMetadata, splitImage } from './docker-metadata.js'
import { fakeProcReader } from './fake-proc-reader.js'

const WEB_ID = 'a1'.repeat(32)
const UNKNOWN_ID = 'b2'.repeat(32)

/** An inspect response shaped as the Docker Engine API documents GET /containers/{id}/json. */
const WEB_INSPECT = {
  Id: WEB_ID,
  Name: '/web',
  Image: 'sha256:' + 'c3'.repeat(32),
  Config: { Image: 'registry.local:5000/team/nginx:1.25', Labels: { app: 'web', tier: 'front' } },
  HostConfig: { Privileged: true },
  NetworkSettings: { IPAddress: '', Networks: { bridge: { IPAddress: '172.17.0.2' } } },
  Mounts: [
    {
      Source: '/srv/www',
      Destination: '/usr/share/nginx/html',
      Mode: 'ro',
      RW: false,
      Propagation: 'rprivate',
    },
  ],
}

/** A loopback stand-in for the Docker daemon on a Unix socket of a temporary folder. */
class FakeDockerDaemon {
  readonly requests: string[] = []
  readonly socketPath: string
  private readonly dir = mkdtempSync(join(tmpdir(), 'peregrine-docker-'))
  private readonly server: Server

  constructor() {
    this.socketPath = join(this.dir, 'docker.sock')
    this.server = createServer((request, response) => {
      this.requests.push(`${request.method} ${request.url}`)
      if (request.method === 'GET' && request.url === `/containers/${WEB_ID}/json`) {
        response.writeHead(200, { 'content-type': 'application/json' })
        response.end(JSON.stringify(WEB_INSPECT))
        return
      }
      const id = /^\/containers\/([^/]+)\/json$/.exec(request.url ?? '')?.[1] ?? ''
      response.writeHead(404, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ message: `No such container: ${id}` }))
    })
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(this.socketPath, resolve))
  }

  async close(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve))
    rmSync(this.dir, { recursive: true, force: true })
  }
}

describe('DockerMetadata', () => {
  const daemon = new FakeDockerDaemon()

  before(async () => {
    await daemon.start()
  })

  after(async () => {
    await daemon.close()
  })

  it('maps an inspect response to container fields', async () => {
    const docker = new DockerMetadata({ socketPath: daemon.socketPath })

    const metadata = await docker.inspect(WEB_ID)

    assert.equal(metadata?.name, 'web')
    assert.equal(metadata?.image, 'registry.local:5000/team/nginx:1.25')
    assert.equal(metadata?.image_repository, 'registry.local:5000/team/nginx')
    assert.equal(metadata?.image_tag, '1.25')
    assert.equal(metadata?.image_digest, null)
    assert.equal(metadata?.image_id, 'c3'.repeat(32))
    assert.equal(metadata?.privileged, true)
    assert.equal(metadata?.ip, '172.17.0.2')
    assert.deepEqual(metadata?.labels, { app: 'web', tier: 'front' })
    assert.deepEqual(metadata?.mounts, [
      {
        source: '/srv/www',
        dest: '/usr/share/nginx/html',
        mode: 'ro',
        rdwr: false,
        propagation: 'rprivate',
      },
    ])
  })

  it('returns null for an unknown container', async () => {
    const docker = new DockerMetadata({ socketPath: daemon.socketPath })

    assert.equal(await docker.inspect(UNKNOWN_ID), null)
  })

  it('asks the daemon once per container', async () => {
    const docker = new DockerMetadata({ socketPath: daemon.socketPath })
    const before = daemon.requests.length

    assert.equal(docker.lookup('docker', UNKNOWN_ID), undefined)
    await docker.settled()
    assert.equal(docker.lookup('docker', UNKNOWN_ID), undefined)
    assert.equal(docker.lookup('docker', WEB_ID), undefined)
    await docker.settled()

    assert.equal(docker.lookup('docker', WEB_ID)?.name, 'web')
    assert.equal(daemon.requests.length - before, 2)
  })

  it('skips containers of other runtimes', () => {
    const docker = new DockerMetadata({ socketPath: daemon.socketPath })
    const before = daemon.requests.length

    assert.equal(docker.lookup('containerd', WEB_ID), undefined)
    assert.equal(daemon.requests.length, before)
  })

  it('treats an unreachable socket as missing', async () => {
    const docker = new DockerMetadata({ socketPath: join(tmpdir(), 'no-such-docker.sock') })

    assert.equal(docker.lookup('docker', WEB_ID), undefined)
    await docker.settled()

    assert.equal(docker.lookup('docker', WEB_ID), undefined)
  })

  it('adds the metadata to later live events', async () => {
    const docker = new DockerMetadata({ socketPath: daemon.socketPath })
    const probe = new FakeProbe()
    const source = new EbpfSource({
      hostname: 'node-1',
      openProbe: probe.opener(),
      pollIntervalMs: 1,
      containerMetadata: docker,
      procReader: fakeProcReader([{ pid: 1, ppid: 0, comm: 'systemd' }]),
    })
    const controller = new AbortController()
    const events: SyscallEvent[] = []
    const reading = (async () => {
      for await (const event of source.events(controller.signal)) events.push(event)
    })()
    const closeNr = (SYSCALLS.get('close') as { nr: number }).nr

    probe.push(
      encodeExec(
        { pid: 300 },
        {
          ppid: 1,
          comm: 'nginx',
          filename: '/usr/sbin/nginx',
          argv: ['nginx'],
          cgroup: `/docker/${WEB_ID}`,
        },
      ),
      encodeSyscall({ pid: 300 }, closeNr, 0, [5]),
    )
    while (events.length < 2) await new Promise((resolve) => setImmediate(resolve))
    await docker.settled()
    probe.push(encodeSyscall({ pid: 300 }, closeNr, 0, [6]))
    while (events.length < 3) await new Promise((resolve) => setImmediate(resolve))
    controller.abort()
    await reading

    assert.equal(events[0].type, 'container')
    assert.equal(events[0].container?.image, null)
    const later = events[2]
    assert.equal(later.container?.id, WEB_ID.slice(0, 12))
    assert.equal(later.container?.name, 'web')
    assert.equal(later.container?.image_repository, 'registry.local:5000/team/nginx')
    assert.equal(later.container?.privileged, true)
    assert.equal(later.container?.type, 'docker')
  })
})

describe('splitImage', () => {
  const cases: Array<[string, string, string | null, string | null]> = [
    ['nginx', 'nginx', null, null],
    ['nginx:1.25', 'nginx', '1.25', null],
    ['registry:5000/app', 'registry:5000/app', null, null],
    ['registry:5000/app:2', 'registry:5000/app', '2', null],
    ['app@sha256:abc', 'app', null, 'sha256:abc'],
    ['app:3@sha256:abc', 'app', '3', 'sha256:abc'],
  ]
  for (const [image, repository, tag, digest] of cases) {
    it(`splits ${image}`, () => {
      assert.deepEqual(splitImage(image), { repository, tag, digest })
    })
  }
})
