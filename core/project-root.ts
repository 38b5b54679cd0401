import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Root of the checkout or package: the nearest folder above this module that holds package.json. */
export const PROJECT_ROOT = findProjectRoot(dirname(fileURLToPath(import.meta.url)))

function findProjectRoot(start: string): string {
  let folder = start
  for (;;) {
    try {
      readFileSync(join(folder, 'package.json'))
      return folder
    } catch {
      const parent = dirname(folder)
      if (parent === folder) {
        throw new Error(
          `no package.json above ${start}; Peregrine must run from its checkout or package`,
        )
      }
      folder = parent
    }
  }
}
