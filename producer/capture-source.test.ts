import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { SourceError } from '../core/errors.js'
import type { SyscallEvent } from '../schemas/types.js'
import { CaptureSource } from './capture-source.js'
import type { CaptureSourceOptions } from './capture-source.js'
import { SYSDIG_FIELDS, ancestorFields, buildFormat } from './sysdig-fields.js'
import { upstreamPath } from '../tests/support/upstream.js'

const TRACES = upstreamPath('traces')
const CAT_WRITE = join(TRACES, 'falco', 'cat_write.scap')
const PRIVILEGED = join(TRACES, 'falco', 'psp', 'privileged.scap')
const UNREADABLE = join(TRACES, 'libs', 'curl_google_comments.scap')
const LARGE = join(TRACES, 'sysdig-inspect', '502Error.scap')

const skipReason = findSkipReason()
if (skipReason !== undefined)
  process.stdout.write(`# capture source tests skipped: ${skipReason}\n`)

async function readAll(
  path: string,
  options: CaptureSourceOptions = {},
): Promise<{ events: SyscallEvent[]; source: CaptureSource }> {
  const source = new CaptureSource(path, { hostname: 'test-host', ...options })
  const events: SyscallEvent[] = []
  for await (const event of source.events(new AbortController().signal)) events.push(event)
  return { events, source }
}

async function readUntilFailure(path: string): Promise<{ count: number; error: unknown }> {
  const source = new CaptureSource(path)
  let count = 0
  try {
    for await (const event of source.events(new AbortController().signal)) {
      assert.ok(event.num !== undefined)
      count++
    }
  } catch (error) {
    return { count, error }
  }
  return { count, error: undefined }
}

describe('CaptureSource', { skip: skipReason }, () => {
  let workDir = ''

  before(() => {
    workDir = mkdtempSync(join(tmpdir(), 'peregrine-capture-'))
  })

  after(() => {
    rmSync(workDir, { recursive: true, force: true })
  })

  test('sysdig accepts every requested field', () => {
    const fields = [...SYSDIG_FIELDS, ...ancestorFields(2)]

    const format = buildFormat(fields)
    const output = execFileSync('sysdig', ['-r', CAT_WRITE, '-n', '200', '-j', '-p', format])
    const row = JSON.parse(output.toString().split('\n')[0]) as Record<string, unknown>

    assert.deepEqual(
      fields.filter((field) => !(field in row)),
      [],
    )
  })

  test('cat_write.scap yields exit and procexit events by type', async () => {
    const { events, source } = await readAll(CAT_WRITE)

    const byType: Record<string, number> = {}
    for (const event of events) byType[event.type] = (byType[event.type] ?? 0) + 1
    assert.deepEqual(byType, {
      access: 3,
      arch_prctl: 1,
      brk: 3,
      close: 6,
      execve: 1,
      fstat: 5,
      mmap: 10,
      mprotect: 4,
      munmap: 2,
      open: 4,
      procexit: 1,
      read: 2,
    })
    assert.deepEqual(source.stats(), {
      eventsRead: 42,
      skipped: { 'enter event': 41, 'unknown event type': 2 },
      dropped: {},
    })
  })

  test('the open of /dev/null carries the values sysdig prints', async () => {
    const { events } = await readAll(CAT_WRITE)

    const open = events.find((event) => event.num === 197)
    assert.ok(open !== undefined)
    assert.equal(open.ts_ns, 1470327477882054739n)
    assert.equal(open.hostname, 'test-host')
    assert.equal(open.type, 'open')
    assert.equal(open.res, 3)
    assert.deepEqual(open.args, {
      fd: '<f>/dev/null',
      name: '/dev/null',
      flags: 'O_RDONLY',
      mode: '0',
    })
    assert.deepEqual(open.raw_args, { fd: '3', name: '/dev/null', flags: '1', mode: '0' })
    assert.equal(open.proc.pid, 20072)
    assert.equal(open.proc.ppid, 11310)
    assert.equal(open.proc.name, 'cat')
    assert.deepEqual(open.proc.args, ['/dev/null'])
    assert.equal(open.proc.loginshell_id, 1020)
    assert.ok(open.proc.env.includes('SSH_CONNECTION=10.0.2.2 54626 10.0.2.15 22'))
    assert.deepEqual(
      open.ancestors.map((ancestor) => ancestor.name),
      ['bash', 'emacs', 'bash', 'sshd', 'sshd', 'sshd', 'systemd'],
    )
    assert.deepEqual(open.ancestors[0].args, ['--noediting', '-i'])
    assert.equal(open.fd?.num, 3)
    assert.equal(open.fd?.typechar, 'f')
    assert.equal(open.fd?.name, '/dev/null')
    assert.equal(open.container, null)
  })

  test('a read exit event gets the fd and size of its enter event', async () => {
    const { events } = await readAll(CAT_WRITE)

    const read = events.find((event) => event.num === 205)
    assert.deepEqual(read?.args, { res: '0', data: '', fd: '<f>/dev/null', size: '131072' })
    assert.equal(read?.raw_args.fd, '3')
  })

  test('privileged.scap yields one privileged nginx container event', async () => {
    const { events } = await readAll(PRIVILEGED)

    assert.equal(events.length, 1)
    const [event] = events
    assert.equal(event.type, 'container')
    assert.equal(event.proc.name, 'container:9dbcbd0c435f')
    assert.equal(event.container?.id, '9dbcbd0c435f')
    assert.equal(event.container?.privileged, true)
    assert.equal(event.container?.image, 'nginx:latest')
    assert.equal(event.container?.image_repository, 'nginx')
    assert.equal(event.container?.image_tag, 'latest')
    assert.equal(event.container?.type, 'docker')
    assert.equal(event.container?.ip, '172.17.0.2')
    assert.equal(
      event.container?.labels.maintainer,
      'NGINX Docker Maintainers <docker-maint@nginx.com>',
    )
  })

  test('a missing file fails with its path', async () => {
    const path = join(workDir, 'missing.scap')

    const { count, error } = await readUntilFailure(path)

    assert.equal(count, 0)
    assert.ok(error instanceof SourceError)
    assert.equal(error.message, `capture file ${path} does not exist`)
  })

  test('a capture in a newer format fails with what to do', async () => {
    const { error } = await readUntilFailure(UNREADABLE)

    assert.ok(error instanceof SourceError)
    assert.match(error.message, /sysdig cannot read .*curl_google_comments\.scap/)
    assert.match(error.message, /newer capture format/)
    assert.match(error.message, /Could not initialize reader/)
  })

  test('a file that is not a capture fails', async () => {
    const path = join(workDir, 'notes.scap')
    writeFileSync(path, '{"this": "is JSON, not a capture"}\n')

    const { error } = await readUntilFailure(path)

    assert.ok(error instanceof SourceError)
    assert.match(error.message, /sysdig cannot read .*notes\.scap: the file is not a capture file/)
  })

  test('a truncated capture fails after the events before the cut', async () => {
    const path = join(workDir, 'truncated.scap')
    writeFileSync(path, readPrefix(LARGE, 300_000))

    const { count, error } = await readUntilFailure(path)

    assert.ok(count > 100, `expected events before the cut, got ${count}`)
    assert.ok(error instanceof SourceError)
    assert.match(error.message, /truncated/)
  })

  test('a missing sysdig binary fails with the install command', async () => {
    const source = new CaptureSource(CAT_WRITE, { sysdigPath: join(workDir, 'no-sysdig') })

    await assert.rejects(async () => {
      for await (const event of source.events(new AbortController().signal)) assert.ok(event)
    }, /sysdig was not found .*apt-get install --no-install-recommends sysdig/)
  })

  test('aborting stops reading without an error', async () => {
    const source = new CaptureSource(LARGE)
    const controller = new AbortController()

    let count = 0
    for await (const event of source.events(controller.signal)) {
      assert.ok(event)
      count++
      if (count === 10) controller.abort()
    }
    await source.close()

    assert.equal(count, 10)
    assert.equal(source.stats().eventsRead, 10)
  })

  test('closing during a read ends it without an error', async () => {
    const source = new CaptureSource(LARGE)

    let count = 0
    for await (const event of source.events(new AbortController().signal)) {
      assert.ok(event)
      count++
      if (count === 10) await source.close()
    }

    assert.ok(count < 4423, `read ${count} events after close`)
  })
})

function readPrefix(path: string, byteCount: number): Buffer {
  const buffer = Buffer.alloc(byteCount)
  const fd = openSync(path, 'r')
  const read = readSync(fd, buffer, 0, byteCount, 0)
  return buffer.subarray(0, read)
}

function findSkipReason(): string | undefined {
  if (!existsSync(TRACES)) return `${TRACES} is missing`
  try {
    execFileSync('sysdig', ['--version'])
    return undefined
  } catch {
    return 'sysdig is not installed (apt-get install --no-install-recommends sysdig)'
  }
}
