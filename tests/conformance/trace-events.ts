import { readdirSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { silentLogger } from '../../core/logger.js'
import { CaptureSource } from '../../producer/capture-source.js'
import type { SyscallEvent } from '../../schemas/types.js'
import { upstreamPath } from '../support/upstream.js'

/** Folder of the upstream capture files. */
export const TRACES_DIR = upstreamPath('traces')

/** Events of a trace read through the capture source, or why the trace cannot be read. */
export type TraceRead = { events: SyscallEvent[] } | { error: string }

const reads = new Map<string, Promise<TraceRead>>()

/** Returns the `.scap` files below the traces folder, as paths relative to it, sorted. */
export function listTraces(): string[] {
  const found: string[] = []
  const visit = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name)
      if (entry.isDirectory()) visit(path)
      else if (entry.name.endsWith('.scap')) found.push(relative(TRACES_DIR, path))
    }
  }
  visit(TRACES_DIR)
  return found.sort()
}

/**
 * Reads a trace (a path relative to the traces folder, or absolute) through CaptureSource, as the producer
 * does, once per process. Returns the events, or the capture source's error message.
 */
export function readTrace(trace: string): Promise<TraceRead> {
  let read = reads.get(trace)
  if (read === undefined) {
    read = collectEvents(resolve(TRACES_DIR, trace))
    reads.set(trace, read)
  }
  return read
}

async function collectEvents(path: string): Promise<TraceRead> {
  const source = new CaptureSource(path, { hostname: 'conformance', logger: silentLogger() })
  const events: SyscallEvent[] = []
  try {
    for await (const event of source.events(new AbortController().signal)) events.push(event)
    return { events }
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) }
  } finally {
    await source.close()
  }
}
