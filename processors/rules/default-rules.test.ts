import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { PROJECT_ROOT } from '../../schemas/index.js'
import { fileFd, syscallEvent } from './event-fixture.js'
import type { EventOverrides } from './event-fixture.js'
import { loadRuleSet } from './load-rule-set.js'
import { upstreamPath } from '../../tests/support/upstream.js'

const DEFAULT_RULES = join(PROJECT_ROOT, 'processors', 'rules', 'default', 'peregrine_rules.yaml')
const STABLE_RULES = upstreamPath('falco-rules', 'falco_rules.yaml')

const ruleSet = loadRuleSet([DEFAULT_RULES])

function rulesMatching(overrides: EventOverrides): string[] {
  return ruleSet.evaluate(syscallEvent(overrides)).map((match) => match.rule)
}

const interactiveBash: EventOverrides = {
  type: 'execve',
  res: 0,
  args: { res: '0', exe: '/bin/bash', args: '-i.' },
  raw_args: { res: '0' },
  proc: { name: 'bash', exe: '/bin/bash', exepath: '/usr/bin/bash', args: ['-i'], tty: 34816 },
  ancestors: [{ pid: 700, name: 'runc', exe: 'runc', exepath: '/usr/bin/runc', args: [] }],
  fd: null,
  container: {},
}

function openForWrite(path: string, flags = 'O_WRONLY|O_CREAT|O_TRUNC'): EventOverrides {
  return {
    type: 'openat',
    args: { fd: '3', dirfd: '-100(AT_FDCWD)', name: path, flags, mode: '0755' },
    proc: { name: 'curl', exe: 'curl', exepath: '/usr/bin/curl', args: ['-o', path, 'http://x'] },
    fd: fileFd(path),
  }
}

describe('default rules', () => {
  it('load without warnings', () => {
    assert.deepEqual(ruleSet.warnings, [])
    assert.deepEqual(
      ruleSet.rules.map((rule) => rule.name),
      ['Terminal shell in container', 'Write below binary dir', 'Create files below dev'],
    )
  })

  it('detect an interactive shell with a terminal in a container', () => {
    const [match] = ruleSet.evaluate(syscallEvent(interactiveBash))

    assert.equal(match.rule, 'Terminal shell in container')
    assert.equal(match.priority, 'Notice')
    assert.match(match.output, /shell=bash cmdline=bash -i parent=runc/)
    assert.match(match.output, /container_id=3ad7b26ded6d .* pod=web-7d4b9c namespace=shop\)$/)
    assert.equal(match.outputFields['container.image.repository'], 'docker.io/library/nginx')
    assert.ok(match.tags.includes('mitre_execution'))
  })

  it('ignore shells without a terminal, on the host, or whose exec failed', () => {
    assert.deepEqual(
      rulesMatching({ ...interactiveBash, proc: { ...interactiveBash.proc, tty: 0 } }),
      [],
    )
    assert.deepEqual(rulesMatching({ ...interactiveBash, container: null }), [])
    assert.deepEqual(rulesMatching({ ...interactiveBash, res: -2 }), [])
  })

  it('detect writes below binary folders', () => {
    for (const path of ['/usr/bin/x', '/usr/local/bin/x', '/bin/x', '/usr/sbin/x']) {
      assert.deepEqual(rulesMatching(openForWrite(path)), ['Write below binary dir'], path)
    }
  })

  it('ignore package managers, reads and other folders', () => {
    const dpkg = openForWrite('/usr/bin/x')
    dpkg.proc = { ...dpkg.proc, name: 'dpkg' }
    const byDpkgChild = openForWrite('/usr/bin/x')
    byDpkgChild.ancestors = [
      { pid: 5, name: 'dpkg', exe: 'dpkg', exepath: '/usr/bin/dpkg', args: [] },
    ]

    assert.deepEqual(rulesMatching(dpkg), [])
    assert.deepEqual(rulesMatching(byDpkgChild), [])
    assert.deepEqual(rulesMatching(openForWrite('/usr/bin/x', 'O_RDONLY')), [])
    assert.deepEqual(rulesMatching(openForWrite('/usr/bin/sub/x')), [])
    assert.deepEqual(rulesMatching(openForWrite('/usr/bin/x', 'O_WRONLY')), [
      'Write below binary dir',
    ])
  })

  it('detect files created below /dev', () => {
    const [match] = ruleSet.evaluate(syscallEvent(openForWrite('/dev/something', 'O_RDWR|O_CREAT')))

    assert.equal(match.rule, 'Create files below dev')
    assert.equal(match.priority, 'Error')
    assert.match(
      match.output,
      /^File created below \/dev \(file=\/dev\/something flags=O_RDWR\|O_CREAT /,
    )
  })

  it('ignore device nodes and the scratch folders of /dev', () => {
    assert.deepEqual(rulesMatching(openForWrite('/dev/null')), [])
    assert.deepEqual(rulesMatching(openForWrite('/dev/shm/cache')), [])
    assert.deepEqual(rulesMatching(openForWrite('/dev/something', 'O_RDWR')), [])
    assert.deepEqual(rulesMatching(openForWrite('/devices/x')), [])
  })

  it('print <NA> for Kubernetes fields on the host', () => {
    const [match] = ruleSet.evaluate(syscallEvent(openForWrite('/usr/bin/x')))

    assert.match(match.output, /container_id=host image=<NA> pod=<NA> namespace=<NA>\)$/)
    assert.equal(match.outputFields['k8s.pod.name'], null)
  })

  it('load after the upstream stable rules', { skip: !existsSync(STABLE_RULES) }, () => {
    const combined = loadRuleSet([STABLE_RULES, DEFAULT_RULES])

    const match = combined.evaluate(syscallEvent(interactiveBash))[0]
    assert.equal(match.rule, 'Terminal shell in container')
  })
})
