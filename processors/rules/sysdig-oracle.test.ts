import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { SyscallEvent } from '../../schemas/types.js'
import { compileCondition } from './condition-compiler.js'
import { parseCondition } from './condition-parser.js'
import { syscallEvent } from './event-fixture.js'
import { upstreamPath } from '../../tests/support/upstream.js'

/**
 * Compares this engine with sysdig, whose filter language is Falco's condition language (Debian's
 * sysdig 0.29.3 is built on Falco's libraries of March 2022). Each capture is read once with
 * sysdig into SyscallEvent records; then each condition must select the same exit events in
 * sysdig and here. Conditions on fields whose meaning differs by design (evt.category,
 * fd.lport/fd.rport, proc.pname of threads) are left out; the README lists those differences.
 */
const TRACES_DIR = upstreamPath('traces')
const TRACES = ['falco/cat_write.scap', 'falco/connect_localhost.scap', 'libs/curl_google.scap']
const CONDITIONS = [
  'evt.type=open and proc.name=cat',
  'fd.name != foo',
  'not fd.name = foo',
  'fd.directory = /etc',
  'fd.filename contains lib',
  'evt.arg.flags contains O_RDONLY',
  'evt.is_open_read=true',
  'evt.is_open_write=true',
  'proc.aname=bash',
  'proc.aname[2]=bash',
  "fd.name glob '/etc/*'",
  'fd.name startswith /lib',
  'fd.typechar=4',
  'fd.sport=80',
  'fd.net="127.0.0.0/8"',
  'fd.snet="10.0.0.0/8"',
  'proc.cmdline contains google',
  'evt.rawres < 0',
  'evt.res = ENOENT',
  'evt.res = SUCCESS',
  'evt.failed=true',
  'fd.name pmatch (/etc)',
  'fd.name in (/dev/null, /etc/ld.so.cache)',
  'fd.name icontains LD',
  'proc.name endswith rl',
  'fd.num >= 0',
  'fd.l4proto = tcp',
  'fd.ip = 127.0.0.1',
  'fd.type = ipv4',
  'fd.name exists',
  'user.uid = 0',
  'proc.name < d',
  'fd.name endswith .so.6 or fd.name contains passwd',
  'not (evt.type in (open, openat) and fd.name startswith /usr)',
]
const FIELDS = [
  'evt.num',
  'evt.type',
  'evt.rawres',
  'evt.arg.flags',
  'evt.arg.name',
  'evt.arg.mode',
  'proc.name',
  'proc.pid',
  'proc.exe',
  'proc.args',
  'proc.tty',
  'proc.aname[1]',
  'proc.aname[2]',
  'proc.aname[3]',
  'proc.aname[4]',
  'user.uid',
  'user.name',
  'fd.num',
  'fd.type',
  'fd.typechar',
  'fd.name',
  'fd.cip',
  'fd.sip',
  'fd.cport',
  'fd.sport',
  'fd.l4proto',
]
/** Time limit of one sysdig run; the captures here are read in well under a second. */
const SYSDIG_TIMEOUT_MS = 60_000

type SysdigRecord = Record<string, string | number | boolean | null>

const skipReason = findSkipReason()
if (skipReason !== false) console.log(`# skipping sysdig comparison: ${skipReason}`)

describe('conditions compared with sysdig', { skip: skipReason }, () => {
  for (const trace of TRACES) {
    it(`select the same events in ${trace}`, () => {
      const path = join(TRACES_DIR, trace)
      const events = readEvents(path)

      for (const condition of CONDITIONS) {
        const expected = sysdigMatches(path, condition)
        const predicate = compileCondition(parseCondition(condition), () => {})
        const actual = events.filter(predicate).map((event) => Number(event.num))

        assert.deepEqual(actual, expected, condition)
      }
    })
  }
})

function findSkipReason(): string | false {
  if (!existsSync(TRACES_DIR)) return `captures not found at ${TRACES_DIR}`
  try {
    execFileSync('sysdig', ['--version'], { stdio: 'ignore' })
  } catch {
    return 'sysdig is not installed (apt-get install --no-install-recommends sysdig)'
  }
  return false
}

function runSysdig(args: string[]): string {
  const options = { maxBuffer: 1 << 28, timeout: SYSDIG_TIMEOUT_MS }
  return execFileSync('sysdig', args, options).toString('utf8')
}

function sysdigMatches(path: string, condition: string): number[] {
  const output = runSysdig(['-r', path, '-p', '*%evt.num', `evt.dir=< and (${condition})`])
  return output.split('\n').filter(Boolean).map(Number)
}

function readEvents(path: string): SyscallEvent[] {
  const format = `*${FIELDS.map((field) => `%${field}`).join(' ')}`
  const output = runSysdig(['-r', path, '-j', '-p', format, 'evt.dir=<'])
  return output
    .split('\n')
    .filter(Boolean)
    .map((line) => toEvent(JSON.parse(line) as SysdigRecord))
}

/** Builds a SyscallEvent from the fields sysdig printed; fields it lacks keep fixture values. */
function toEvent(record: SysdigRecord): SyscallEvent {
  const text = (field: string) => (record[field] === null ? null : String(record[field]))
  const number = (field: string) => (record[field] === null ? null : Number(record[field]))
  const args: Record<string, string> = {}
  for (const name of ['flags', 'name', 'mode']) {
    const value = text(`evt.arg.${name}`)
    if (value !== null) args[name] = value
  }
  const ancestors = [1, 2, 3, 4]
    .map((depth) => text(`proc.aname[${depth}]`))
    .filter((name): name is string => name !== null)
    .map((name) => ({ pid: 0, name, exe: null, exepath: null, args: [] }))
  const hasFd = record['fd.num'] !== null || record['fd.name'] !== null
  return syscallEvent({
    num: Number(record['evt.num']),
    type: String(record['evt.type']),
    res: number('evt.rawres'),
    args,
    raw_args: {},
    proc: {
      name: String(record['proc.name']),
      pid: Number(record['proc.pid']),
      exe: text('proc.exe'),
      args: (text('proc.args') ?? '').split(' ').filter(Boolean),
      tty: number('proc.tty'),
    },
    ancestors,
    user: { uid: Number(record['user.uid']), name: text('user.name') },
    fd: hasFd
      ? {
          num: number('fd.num') ?? -1,
          type: text('fd.type') ?? '',
          typechar: text('fd.typechar') ?? '',
          name: text('fd.name') ?? '',
          cip: text('fd.cip'),
          sip: text('fd.sip'),
          cport: number('fd.cport'),
          sport: number('fd.sport'),
          l4proto: text('fd.l4proto'),
          is_server: null,
        }
      : null,
    container: null,
  })
}
