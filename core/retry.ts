import { setTimeout as sleep } from 'node:timers/promises'
import { isRetriable } from './errors.js'

export interface RetryOptions {
  /** Attempts in all, the first included. */
  maxAttempts: number
  initialDelayMs: number
  maxDelayMs: number
  /** Gives up once this much time has passed since the first attempt, in milliseconds. */
  maxElapsedMs?: number
  signal?: AbortSignal
  /** Decides whether an error is worth another attempt; defaults to isRetriable. */
  shouldRetry?: (error: unknown) => boolean
  /** A delay the failure itself requests, such as an HTTP Retry-After, in milliseconds. */
  requestedDelayMs?: (error: unknown) => number | undefined
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void
  random?: () => number
}

/**
 * Runs `operation` until it succeeds, retrying retriable failures with exponential backoff and
 * full jitter. A delay the error requests (Retry-After) replaces the computed one when it is longer.
 * Throws the last error once attempts or time run out, at once for non-retriable errors, and the
 * signal's reason when it is aborted.
 */
export async function retry<T>(
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const startedAt = Date.now()
  const shouldRetry = options.shouldRetry ?? isRetriable
  const random = options.random ?? Math.random

  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted()
    try {
      return await operation(attempt)
    } catch (error) {
      if (attempt >= options.maxAttempts || !shouldRetry(error)) throw error

      const delayMs = backoffDelayMs(attempt, options, random, options.requestedDelayMs?.(error))
      const elapsedMs = Date.now() - startedAt
      if (options.maxElapsedMs !== undefined && elapsedMs + delayMs > options.maxElapsedMs)
        throw error

      options.onRetry?.(error, attempt, delayMs)
      await sleep(delayMs, undefined, { signal: options.signal })
    }
  }
}

/** Computes the wait before attempt `attempt + 1`, in milliseconds. */
export function backoffDelayMs(
  attempt: number,
  options: Pick<RetryOptions, 'initialDelayMs' | 'maxDelayMs'>,
  random: () => number = Math.random,
  requestedDelayMs?: number,
): number {
  const ceilingMs = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** (attempt - 1))
  const jitteredMs = Math.round(ceilingMs / 2 + (random() * ceilingMs) / 2)
  return requestedDelayMs !== undefined && requestedDelayMs > jitteredMs
    ? requestedDelayMs
    : jitteredMs
}

/**
 * Rejects with a timeout error after `timeoutMs` unless `promise` settles first. For calls whose
 * client sets no deadline of its own, such as the schema registry client and broker checks.
 */
export async function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  action: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${action} timed out after ${timeoutMs} ms`)),
      timeoutMs,
    )
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}
