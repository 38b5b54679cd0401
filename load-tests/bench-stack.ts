/**
 * Runs a benchmark against the local stack: starts the broker and the registry when they are not
 * running, and stops them afterwards only if this call started them.
 */
import { createLogger } from '../core/logger.js'
import { loadPeregrineConfig } from '../core/peregrine-config.js'
import { startLocalStack, stopLocalStack } from '../stack/local-stack.js'

export interface BenchStack {
  brokers: string[]
  registryUrl: string
}

/** Runs `task` with the local stack up, logging stack warnings to stderr. */
export async function withBenchStack<T>(task: (stack: BenchStack) => Promise<T>): Promise<T> {
  const logger = createLogger({
    service: 'bench',
    version: 'bench',
    level: 'warn',
    destination: process.stderr as never,
  })
  const baseConfig = loadPeregrineConfig({ env: process.env })
  const stack = await startLocalStack(baseConfig, logger)
  try {
    return await task(stack)
  } finally {
    if (stack.alreadyRunning.length === 0) await stopLocalStack(baseConfig, logger)
  }
}
