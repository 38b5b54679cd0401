import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { PROJECT_ROOT } from '../../schemas/index.js'

const NOBODY = 65534
const isRoot = process.getuid?.() === 0

interface CommandResult {
  code: number | null
  stderr: string
}

/** Runs the peregrine command as the unprivileged user nobody, with metrics off. */
async function peregrineAsNobody(args: string[]): Promise<CommandResult> {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin', 'peregrine.js'), ...args], {
    env: { ...process.env, PEREGRINE_METRICS_PORT: '-1', PEREGRINE_LOG_LEVEL: 'error' },
    uid: NOBODY,
    gid: NOBODY,
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  return { code, stderr }
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
    const child = spawn(process.execPath, [
      join(PROJECT_ROOT, 'bin', 'peregrine.js'),
      'probe',
      '--source',
      'generator:10',
      '--rules',
      'rules.yaml',
    ])
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))

    assert.equal(code, 1)
    assert.match(stderr, /--rules applies only to --source ebpf/)
  })
})
