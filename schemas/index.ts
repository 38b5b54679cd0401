import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Schema } from 'avsc'

export type { SyscallEvent, Alert } from './types.js'

/** Root of the checkout or package: the folder that holds package.json. */
export const PROJECT_ROOT = findProjectRoot(dirname(fileURLToPath(import.meta.url)))

/** Folder of the .avsc files; compiled code reads them from the source tree. */
export const SCHEMAS_DIR = join(PROJECT_ROOT, 'schemas')

/** Reads one .avsc file of this folder as a parsed schema. */
export function readSchema(fileName: string): Schema {
  return JSON.parse(readFileSync(join(SCHEMAS_DIR, fileName), 'utf8')) as Schema
}

export const SYSCALL_EVENT_SCHEMA = readSchema('syscall-event.avsc')
export const ALERT_SCHEMA = readSchema('alert.avsc')

function findProjectRoot(start: string): string {
  let folder = start
  for (;;) {
    try {
      readFileSync(join(folder, 'package.json'))
      return folder
    } catch {
      const parent = dirname(folder)
      if (parent === folder)
        throw new Error(
          `no package.json above ${start}; Peregrine must run from its checkout or package`,
        )
      folder = parent
    }
  }
}
