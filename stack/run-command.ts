import { spawn } from 'node:child_process'
import { StackError, errorMessage } from '../core/errors.js'

export interface RunCommandOptions {
  cwd?: string
  /** Environment of the command; the current process environment when left out. */
  env?: NodeJS.ProcessEnv
  /** Kills the command with SIGKILL once it has run this long, in milliseconds. */
  timeoutMs?: number
}

export interface CommandResult {
  /** Exit code, or null when a signal ended the command. */
  exitCode: number | null
  signal: NodeJS.Signals | null
  /** Standard output and standard error interleaved, cut to the last MAX_OUTPUT_BYTES. */
  output: string
  hasTimedOut: boolean
}

/** Output kept from one command; enough for `java -version`, `mvn -v` and an error's last lines. */
const MAX_OUTPUT_BYTES = 64 * 1024

/**
 * Runs a short-lived command to its end and collects its output. A non-zero exit is returned, not
 * thrown, so the caller can word the error. Throws StackError when the command cannot be started;
 * the error's `context.isMissing` is true when the program was not found on PATH.
 */
export async function runCommand(
  command: string,
  args: string[],
  options: RunCommandOptions = {},
): Promise<CommandResult> {
  return await new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const output = new BoundedOutput(MAX_OUTPUT_BYTES)
    let hasTimedOut = false
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            hasTimedOut = true
            child.kill('SIGKILL')
          }, options.timeoutMs)

    child.stdout.on('data', (chunk: Buffer) => output.append(chunk))
    child.stderr.on('data', (chunk: Buffer) => output.append(chunk))
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      reject(
        new StackError(`cannot run ${command}: ${errorMessage(error)}`, {
          cause: error,
          context: { command, isMissing: error.code === 'ENOENT' },
        }),
      )
    })
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer)
      resolve({ exitCode, signal, output: output.text(), hasTimedOut })
    })
  })
}

/** Returns the last `count` non-empty lines of `text`. */
export function lastLines(text: string, count: number): string {
  const lines = text.split('\n').filter((line) => line.trim() !== '')
  return lines.slice(-count).join('\n')
}

class BoundedOutput {
  private chunks: Buffer[] = []
  private size = 0

  constructor(private readonly maxBytes: number) {}

  append(chunk: Buffer): void {
    this.chunks.push(chunk)
    this.size += chunk.length
    while (this.size - this.chunks[0].length >= this.maxBytes) {
      this.size -= this.chunks[0].length
      this.chunks.shift()
    }
  }

  text(): string {
    const all = Buffer.concat(this.chunks)
    return all.subarray(Math.max(0, all.length - this.maxBytes)).toString('utf8')
  }
}
