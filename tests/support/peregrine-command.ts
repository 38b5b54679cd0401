import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PROJECT_ROOT } from '../../schemas/index.js'

/** Exit code and output of one run of the peregrine command. */
export interface CommandResult {
  /** Exit code, or null when a signal ended the command. */
  code: number | null
  stdout: string
  stderr: string
}

export interface RunPeregrineOptions {
  /** Variables added to the test process's environment. */
  env?: Record<string, string>
  uid?: number
  gid?: number
}

/** Runs bin/peregrine.js with `args` until it exits and collects its output. */
export async function runPeregrine(
  args: string[],
  options: RunPeregrineOptions = {},
): Promise<CommandResult> {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin', 'peregrine.js'), ...args], {
    env: { ...process.env, ...options.env },
    uid: options.uid,
    gid: options.gid,
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  return { code, stdout, stderr }
}

/** Writes `text` to a file called `name` in a new temporary folder and returns its path. */
export function scratchFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'peregrine-cli-')), name)
  writeFileSync(path, text)
  return path
}
