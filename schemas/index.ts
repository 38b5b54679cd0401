import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { PROJECT_ROOT } from '../core/project-root.js'
import type { Schema } from 'avsc'

export type { SyscallEvent, Alert } from './types.js'

export { PROJECT_ROOT } from '../core/project-root.js'

/** Folder of the .avsc files; compiled code reads them from the source tree. */
export const SCHEMAS_DIR = join(PROJECT_ROOT, 'schemas')

/** Reads one .avsc file of this folder as a parsed schema. */
export function readSchema(fileName: string): Schema {
  return JSON.parse(readFileSync(join(SCHEMAS_DIR, fileName), 'utf8')) as Schema
}

export const SYSCALL_EVENT_SCHEMA = readSchema('syscall-event.avsc')
export const ALERT_SCHEMA = readSchema('alert.avsc')
