import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { parseSchema } from '../core/avro-codec.js'
import { SourceError } from '../core/errors.js'
import { PROJECT_ROOT, SYSCALL_EVENT_SCHEMA } from '../schemas/index.js'
import type { SyscallEvent } from '../schemas/types.js'
import { EventsFileSource } from './events-file-source.js'
import type { EventsFileSourceOptions } from './events-file-source.js'

const DEMO_SESSION = join(PROJECT_ROOT, 'producer', 'samples', 'demo-session.jsonl')

/** The smallest valid line: only the fields without a schema default. */
const MINIMAL = {
  ts_ns: '1773134042000000000',
  hostname: 'node-1',
  num: 1,
  type: 'openat',
  proc: { pid: 42, tid: 42, name: 'cat' },
  user: { uid: 1000, gid: 1000 },
}

function line(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({ ...MINIMAL, ...overrides })
}

describe('EventsFileSource', () => {
  let workDir = ''
  let fileCount = 0

  before(() => {
    workDir = mkdtempSync(join(tmpdir(), 'peregrine-events-'))
  })

  after(() => {
    rmSync(workDir, { recursive: true, force: true })
  })

  function writeEvents(lines: string[]): string {
    fileCount++
    const path = join(workDir, `events-${fileCount}.jsonl`)
    writeFileSync(path, lines.join('\n'))
    return path
  }

  async function readAll(
    path: string,
    options: EventsFileSourceOptions = {},
  ): Promise<{ events: SyscallEvent[]; source: EventsFileSource }> {
    const source = new EventsFileSource(path, options)
    const events: SyscallEvent[] = []
    for await (const event of source.events(new AbortController().signal)) events.push(event)
    return { events, source }
  }

  async function failureOf(lines: string[]): Promise<SourceError> {
    const path = writeEvents(lines)
    try {
      await readAll(path)
    } catch (error) {
      assert.ok(error instanceof SourceError, `expected SourceError, got ${String(error)}`)
      return error
    }
    assert.fail('expected the source to fail')
  }

  test('reads events and skips comments and blank lines', async () => {
    const path = writeEvents([
      '# a session',
      '',
      line(),
      '   ',
      '  # indented comment',
      line({ num: 2 }),
    ])

    const { events, source } = await readAll(path)

    assert.deepEqual(
      events.map((event) => event.num),
      [1, 2],
    )
    assert.deepEqual(source.stats(), { eventsRead: 2, skipped: {}, dropped: {} })
  })

  test('fills missing fields with the schema defaults', async () => {
    const path = writeEvents([line()])

    const [event] = (await readAll(path)).events

    assert.equal(event.source, 'syscall')
    assert.equal(event.cpu, null)
    assert.deepEqual(event.args, {})
    assert.deepEqual(event.ancestors, [])
    assert.equal(event.fd, null)
    assert.equal(event.container, null)
    assert.deepEqual(event.proc.env, [])
    assert.equal(event.proc.exepath, null)
    assert.equal(event.user.name, null)
  })

  test('reads 64-bit values from strings and numbers exactly', async () => {
    const path = writeEvents([
      line({ num: '9007199254740993', res: -2, proc: { ...MINIMAL.proc, start_ts_ns: '17' } }),
    ])

    const [event] = (await readAll(path)).events

    assert.equal(event.ts_ns, 1773134042000000000n)
    assert.equal(event.num, 9007199254740993n)
    assert.equal(event.res, -2)
    assert.equal(event.proc.start_ts_ns, 17)
  })

  test('reads CRLF line endings', async () => {
    const path = writeEvents([line(), line({ num: 2 })].map((text) => `${text}\r`))

    const { events } = await readAll(path)

    assert.equal(events.length, 2)
  })

  test('stops at invalid JSON with file and line', async () => {
    const error = await failureOf([line(), '{"ts_ns": "1",'])

    assert.match(error.message, /events-\d+\.jsonl:2: the line is not valid JSON/)
    assert.equal(error.context.line, 2)
  })

  test('stops at a missing required field', async () => {
    const error = await failureOf([line({ proc: { tid: 1, name: 'cat' } })])

    assert.match(error.message, /:1: field `proc\.pid` is required but missing$/)
  })

  test('stops at a field of the wrong type', async () => {
    const error = await failureOf([line({ fd: { num: 3, type: 'file', typechar: 'f', name: 7 } })])

    assert.match(error.message, /:1: field `fd\.name` must be a string, got number 7$/)
  })

  test('stops at a 64-bit JSON number that lost precision', async () => {
    const text = line().replace('"1773134042000000000"', '1773134042000000001')

    const error = await failureOf([text])

    assert.match(error.message, /field `ts_ns` is the JSON number .* write it as a decimal string/)
  })

  test('stops at a field the schema does not have', async () => {
    const error = await failureOf([line({ procc: {} })])

    assert.match(error.message, /:1: field `procc` is not part of the schema$/)
  })

  test('stops at a line that is not an object', async () => {
    const error = await failureOf(['[1, 2]'])

    assert.match(error.message, /:1: the line must be an object, got an array$/)
  })

  test('stops at a missing file', async () => {
    const path = join(workDir, 'missing.jsonl')

    await assert.rejects(readAll(path), { message: `event file ${path} does not exist` })
  })

  test('skips and counts invalid lines when asked to', async () => {
    const path = writeEvents([line(), 'not json', line({ hostname: 5 }), line({ num: 4 })])

    const { events, source } = await readAll(path, { onInvalidLine: 'skip' })

    assert.deepEqual(
      events.map((event) => event.num),
      [1, 4],
    )
    assert.deepEqual(source.stats().dropped, { 'invalid line': 2 })
  })

  test('keeps events yielded before an invalid line', async () => {
    const source = new EventsFileSource(writeEvents([line(), line({ num: 2 }), 'oops']))
    const seen: unknown[] = []

    await assert.rejects(async () => {
      for await (const event of source.events(new AbortController().signal)) seen.push(event.num)
    }, SourceError)

    assert.deepEqual(seen, [1, 2])
  })

  test('stops reading when the signal aborts', async () => {
    const source = new EventsFileSource(writeEvents([line(), line({ num: 2 }), line({ num: 3 })]))
    const controller = new AbortController()
    const seen: unknown[] = []

    for await (const event of source.events(controller.signal)) {
      seen.push(event.num)
      controller.abort()
    }

    assert.deepEqual(seen, [1])
  })

  test('closing during a read ends it without an error', async () => {
    const source = new EventsFileSource(writeEvents([line(), line({ num: 2 }), line({ num: 3 })]))
    const seen: unknown[] = []

    for await (const event of source.events(new AbortController().signal)) {
      seen.push(event.num)
      await source.close()
    }

    assert.deepEqual(seen, [1])
  })

  test('demo session parses fully and every event encodes with the Avro schema', async () => {
    const avroType = parseSchema(SYSCALL_EVENT_SCHEMA)

    const { events, source } = await readAll(DEMO_SESSION)

    assert.ok(events.length >= 30, `${events.length} events`)
    assert.ok(events.length <= 80, `${events.length} events`)
    assert.deepEqual(source.stats().dropped, {})
    for (const event of events) {
      assert.ok(avroType.isValid(event), `event ${String(event.num)} does not match the schema`)
      // structuredClone turns avsc's record classes into plain objects for the comparison.
      assert.deepEqual(structuredClone(avroType.fromBuffer(avroType.toBuffer(event))), event)
    }
  })

  test('demo session times increase and parents appear as ancestors', async () => {
    const { events } = await readAll(DEMO_SESSION)

    for (let index = 1; index < events.length; index++) {
      assert.ok(BigInt(events[index].ts_ns) > BigInt(events[index - 1].ts_ns), `event ${index}`)
    }
    for (const event of events) {
      if (event.ancestors.length === 0) continue
      assert.equal(event.ancestors[0].pid, event.proc.ppid, `parent of event ${String(event.num)}`)
    }
  })

  test('demo session holds the events the default rules detect', async () => {
    const { events } = await readAll(DEMO_SESSION)

    const terminalShell = events.find(
      (event) =>
        event.type === 'execve' &&
        event.proc.name === 'bash' &&
        event.container !== null &&
        event.proc.tty !== 0 &&
        event.ancestors[0]?.name === 'runc',
    )
    const binaryWrite = events.find(
      (event) =>
        event.type === 'openat' &&
        event.container !== null &&
        event.fd?.name.startsWith('/usr/bin/') === true &&
        event.args.flags === 'O_TRUNC|O_CREAT|O_WRONLY',
    )
    const devCreate = events.find(
      (event) =>
        event.type === 'openat' &&
        event.fd?.name.startsWith('/dev/') === true &&
        event.args.flags?.includes('O_CREAT') === true,
    )
    assert.ok(terminalShell !== undefined, 'interactive shell in the container')
    assert.deepEqual(terminalShell.proc.args, ['-i'])
    assert.equal(terminalShell.ancestors[1]?.name, 'containerd-shim')
    assert.ok(binaryWrite !== undefined, 'write below /usr/bin')
    assert.ok(devCreate !== undefined, 'file created below /dev')
  })
})
