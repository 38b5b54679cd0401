import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { PROJECT_ROOT } from '../../schemas/index.js'

/**
 * Folder of third-party test data (Falco's rules files, its regression suite and capture files):
 * PEREGRINE_UPSTREAM_DIR when set, else `../shared/upstream` beside the checkout. Tests read it by
 * path and never copy it into the repository.
 */
export const UPSTREAM_DIR = resolve(
  process.env.PEREGRINE_UPSTREAM_DIR ?? join(PROJECT_ROOT, '..', 'shared', 'upstream'),
)

/** Absolute path of a file in the upstream folder. */
export function upstreamPath(...parts: string[]): string {
  return join(UPSTREAM_DIR, ...parts)
}

/**
 * Returns a skip reason when one of the upstream files is missing, or undefined when all exist, for
 * node:test's `skip` option: `it('...', { skip: missingUpstream(file) }, ...)`.
 */
export function missingUpstream(...files: string[]): string | undefined {
  const missing = files.filter((file) => !existsSync(file))
  if (missing.length === 0) return undefined
  return `upstream test data not found: ${missing.join(', ')} (set PEREGRINE_UPSTREAM_DIR to the folder holding falco-rules, falco-tests and traces)`
}
