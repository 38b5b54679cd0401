import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { SyscallEvent } from '../schemas/types.js'
import { SysdigEventConverter } from './sysdig-event-converter.js'
import type { Conversion } from './sysdig-event-converter.js'
import { parseSysdigLine } from './sysdig-fields.js'
import type { SysdigRow } from './sysdig-fields.js'
import { parseEventTable } from './sysdig-params.js'

const TABLE = parseEventTable(
  [
    '> read(FD fd, UINT32 size)',
    '< read(ERRNO res, BYTEBUF data)',
    '< read(ERRNO res, BYTEBUF data, FD fd, UINT32 size)',
    '> setuid(UID uid)',
    '< setuid(ERRNO res)',
    '> container(CHARBUF json)',
  ].join('\n'),
)

const CONTAINER_JSON = JSON.stringify({
  container: {
    Mounts: [
      { Source: '/srv', Destination: '/data', Mode: 'ro', RW: false, Propagation: 'rprivate' },
    ],
    id: 'abc123def456',
    image: 'nginx:1.25',
    imagerepo: 'nginx',
    imagetag: '1.25',
    ip: '172.17.0.5',
    labels: { app: 'web' },
    name: 'web',
    privileged: true,
    type: 11,
  },
})

function createConverter(): SysdigEventConverter {
  return new SysdigEventConverter({
    hostname: 'node-1',
    eventTable: TABLE,
    maxAncestors: 4,
    maxTrackedThreads: 2,
    maxTrackedProcesses: 8,
  })
}

function row(fields: SysdigRow): SysdigRow {
  return {
    'evt.num': 10,
    'evt.rawtime': '1700000000123456789',
    'evt.dir': '<',
    'thread.tid': 42,
    'proc.pid': 42,
    'proc.name': 'cat',
    'container.id': 'host',
    ...fields,
  }
}

function eventOf(conversion: Conversion): SyscallEvent {
  if (!('event' in conversion)) assert.fail(`expected an event, got ${JSON.stringify(conversion)}`)
  return conversion.event
}

describe('SysdigEventConverter', () => {
  test('adds enter parameters that the exit event lacks', () => {
    const converter = createConverter()

    const enter = converter.convert(
      row({ 'evt.dir': '>', 'evt.type': 'read', 'evt.args': 'fd=3(<f>/etc/hosts) size=4096 ' }),
    )
    const exit = eventOf(
      converter.convert(row({ 'evt.type': 'read', 'evt.args': 'res=12 data=127.0.0.1... ' })),
    )

    assert.deepEqual(enter, { skipped: 'enter event' })
    assert.deepEqual(exit.args, {
      res: '12',
      data: '127.0.0.1...',
      fd: '<f>/etc/hosts',
      size: '4096',
    })
    assert.equal(exit.raw_args.fd, '3')
  })

  test('keeps the exit value when enter and exit name the same parameter', () => {
    const converter = createConverter()

    converter.convert(row({ 'evt.dir': '>', 'evt.type': 'read', 'evt.args': 'fd=3 size=1 ' }))
    const exit = eventOf(
      converter.convert(row({ 'evt.type': 'read', 'evt.args': 'res=5 data=x fd=4 size=2 ' })),
    )

    assert.equal(exit.args.fd, '4')
    assert.equal(exit.args.size, '2')
  })

  test('merges enter parameters only into the exit of the same thread and type', () => {
    const converter = createConverter()

    converter.convert(row({ 'evt.dir': '>', 'evt.type': 'setuid', 'evt.args': 'uid=0(root) ' }))
    const otherThread = eventOf(
      converter.convert(row({ 'evt.type': 'setuid', 'thread.tid': 43, 'evt.args': 'res=0 ' })),
    )
    const otherType = eventOf(
      converter.convert(row({ 'evt.type': 'read', 'evt.args': 'res=0 data= ' })),
    )
    const laterSetuid = eventOf(
      converter.convert(row({ 'evt.type': 'setuid', 'evt.args': 'res=0 ' })),
    )

    assert.equal(otherThread.args.uid, undefined)
    assert.equal(otherType.args.uid, undefined)
    assert.equal(laterSetuid.args.uid, undefined)
  })

  test('keeps exact nanosecond times past 2^53', () => {
    const converter = createConverter()
    const line = '{"evt.num":7,"evt.rawtime":1470327477882054739,"evt.type":"read","evt.dir":"<"}'

    const event = eventOf(converter.convert(parseSysdigLine(line)))

    assert.equal(event.ts_ns, 1470327477882054739n)
  })

  test('turns a container meta event into an event with the full container record', () => {
    const converter = createConverter()

    const event = eventOf(
      converter.convert(
        row({
          'evt.dir': '>',
          'evt.type': 'container',
          'evt.args': `json=${CONTAINER_JSON}\n `,
          'thread.tid': -1,
          'proc.pid': -1,
          'proc.name': 'container:abc123def456',
          'container.id': 'abc123def456',
        }),
      ),
    )

    assert.equal(event.type, 'container')
    assert.equal(event.container?.privileged, true)
    assert.equal(event.container?.type, 'podman')
    assert.equal(event.container?.image_repository, 'nginx')
    assert.equal(event.container?.ip, '172.17.0.5')
    assert.deepEqual(event.container?.labels, { app: 'web' })
    assert.deepEqual(event.container?.mounts, [
      { source: '/srv', dest: '/data', mode: 'ro', rdwr: false, propagation: 'rprivate' },
    ])
  })

  test('adds container metadata to later events of the same container', () => {
    const converter = createConverter()
    converter.convert(
      row({
        'evt.dir': '>',
        'evt.type': 'container',
        'evt.args': `json=${CONTAINER_JSON} `,
        'container.id': 'abc123def456',
      }),
    )

    const event = eventOf(
      converter.convert(
        row({
          'evt.type': 'read',
          'container.id': 'abc123def456',
          'container.name': 'web',
          'container.mounts': '/srv:/data:ro:false:rprivate',
        }),
      ),
    )

    assert.equal(event.container?.name, 'web')
    assert.deepEqual(event.container?.labels, { app: 'web' })
    assert.equal(event.container?.ip, '172.17.0.5')
  })

  test('reads container.mounts when no container event describes the container', () => {
    const converter = createConverter()

    const event = eventOf(
      converter.convert(
        row({
          'evt.type': 'read',
          'container.id': 'f00dfeedbeef',
          'container.mounts': '/var/run/docker.sock:/var/run/docker.sock::true:rprivate',
        }),
      ),
    )

    assert.deepEqual(event.container?.mounts, [
      {
        source: '/var/run/docker.sock',
        dest: '/var/run/docker.sock',
        mode: null,
        rdwr: true,
        propagation: 'rprivate',
      },
    ])
  })

  test('describes ancestors with details of their own earlier events', () => {
    const converter = createConverter()
    converter.convert(
      row({
        'evt.type': 'read',
        'proc.pid': 7,
        'thread.tid': 7,
        'proc.name': 'bash',
        'proc.exe': '-bash',
        'proc.exepath': '/usr/bin/bash',
        'proc.args': '--login',
      }),
    )

    const event = eventOf(
      converter.convert(
        row({
          'evt.type': 'read',
          'proc.apid[1]': 7,
          'proc.aname[1]': 'bash',
          'proc.apid[2]': 1,
          'proc.aname[2]': 'systemd',
          'proc.pcmdline': 'bash --login',
        }),
      ),
    )

    assert.deepEqual(event.ancestors, [
      { pid: 7, name: 'bash', exe: '-bash', exepath: '/usr/bin/bash', args: ['--login'] },
      { pid: 1, name: 'systemd', exe: null, exepath: null, args: [] },
    ])
  })

  test('takes the parent arguments from proc.pcmdline when the parent made no event', () => {
    const converter = createConverter()

    const event = eventOf(
      converter.convert(
        row({
          'evt.type': 'read',
          'proc.apid[1]': 9,
          'proc.aname[1]': 'python3',
          'proc.pcmdline': 'python3 -m http.server',
        }),
      ),
    )

    assert.deepEqual(event.ancestors[0].args, ['-m', 'http.server'])
  })

  test('counts internal and unknown events as skipped', () => {
    const converter = createConverter()

    assert.deepEqual(converter.convert(row({ 'evt.dir': '>', 'evt.type': 'switch' })), {
      skipped: 'internal event',
    })
    assert.deepEqual(converter.convert(row({ 'evt.type': '<unknown>' })), {
      skipped: 'unknown event type',
    })
  })

  test('drops rows without an event number', () => {
    const converter = createConverter()

    const conversion = converter.convert(row({ 'evt.type': 'read', 'evt.num': null }))

    assert.ok('dropped' in conversion)
  })

  test('fills unknown threads with the values Falco prints for them', () => {
    const converter = createConverter()

    const event = eventOf(
      converter.convert({
        'evt.num': 3,
        'evt.rawtime': 5,
        'evt.type': 'read',
        'evt.dir': '<',
        'thread.tid': 99,
      }),
    )

    assert.equal(event.proc.pid, 99)
    assert.equal(event.proc.name, '<NA>')
    assert.equal(event.user.uid, 4294967295)
    assert.equal(event.container, null)
    assert.equal(event.fd, null)
  })
})
