#!/usr/bin/env node
// Entry point of the `peregrine` command. The TypeScript sources compile to dist/ with
// `npm run build`, which `npm ci` runs through the prepare script.
import { existsSync } from 'node:fs'

const entry = new URL('../dist/cli/main.js', import.meta.url)
if (!existsSync(entry)) {
  process.stderr.write(
    'peregrine: dist/cli/main.js is missing; run "npm run build" in the checkout first\n',
  )
  process.exit(1)
}
await import(entry.href)
