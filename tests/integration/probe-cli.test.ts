import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { runPeregrine } from '../support/peregrine-command.js'
import type { CommandResult } from '../support/peregrine-command.js'

const NOBODY = 65534
const isRoot = process.getuid?.() === 0

/** Runs the peregrine command as the unprivileged user nobody, with metrics off. */
async function peregrineAsNobody(args: string[]): Promise<CommandResult> {
  return await runPeregrine(args, {
    env: { PEREGRINE_METRICS_PORT: '-1', PEREGRINE_LOG_LEVEL: 'error' },
    uid: NOBODY,
    gid: NOBODY,
  })
}

describe('peregrine probe --source ebpf', () => {
  it(
    'fails with the reason without capabilities',
    { skip: isRoot ? false : 'needs root to start the command as an unprivileged user' },
    async () => {
      const result = await peregrineAsNobody(['probe', '--source', 'ebpf'])

      assert.equal(result.code, 1)
      assert.match(result.stderr, /PEREGRINE_PROBE_UNAVAILABLE/)
      assert.match(result.stderr, /the eBPF probe cannot run on this host: .+/)
      assert.match(result.stderr, /CAP_BPF|BTF|not built/)
    },
  )

  it('rejects --rules with a file source', async () => {
    const result = await runPeregrine([
      'probe',
      '--source',
      'generator:10',
      '--rules',
      'rules.yaml',
    ])

    assert.equal(result.code, 1)
    assert.match(result.stderr, /--rules applies only to --source ebpf/)
  })
})
