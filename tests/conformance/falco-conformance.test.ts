import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { missingUpstream } from '../support/upstream.js'
import { runCase } from './case-runner.js'
import type { CaseOutcome } from './case-runner.js'
import { CASE_FILES, FALCO_TESTS_DIR, loadFalcoCases } from './falco-cases.js'
import { sysdigSkipReason } from './sysdig-filter.js'
import { TRACES_DIR } from './trace-events.js'

/**
 * Falco's own regression suite (falco_tests*.yaml and falco_traces.yaml.in of January 2023) run
 * against Peregrine: every case whose trace is available, every load error and warning case, and
 * a skip with its reason for the rest. A table of all cases is printed at the end.
 */
const skipReason = missingUpstream(FALCO_TESTS_DIR, TRACES_DIR) ?? sysdigSkipReason()
if (skipReason !== undefined) console.log(`# skipping Falco's regression cases: ${skipReason}`)

describe("Falco's regression cases", { skip: skipReason }, () => {
  const rows: { name: string; outcome: CaseOutcome }[] = []
  after(() => printTable(rows))

  for (const testCase of skipReason === undefined ? loadFalcoCases() : []) {
    it(`${testCase.file}: ${testCase.name}`, async (context) => {
      const outcome = await runCase(testCase)
      rows.push({ name: `${testCase.file}: ${testCase.name}`, outcome })
      if (outcome.status === 'skip') {
        context.skip(outcome.notes.join('; '))
        return
      }

      assert.equal(
        outcome.status,
        'pass',
        `expected ${outcome.expected}; got ${outcome.got}; ${outcome.notes.join('; ')}`,
      )
    })
  }
})

function printTable(rows: { name: string; outcome: CaseOutcome }[]): void {
  const lines = ['case | expected | got | result']
  for (const { name, outcome } of rows) {
    const result = outcome.status === 'skip' ? `skip: ${outcome.notes.join('; ')}` : outcome.status
    const notes =
      outcome.status === 'skip' || outcome.notes.length === 0
        ? ''
        : ` (${outcome.notes.join('; ')})`
    const row = `${name} | ${outcome.expected} | ${outcome.got} | ${result}${notes}`
    lines.push(row.replace(/\s*\n\s*/g, ' '))
  }
  const count = (status: string) => rows.filter((row) => row.outcome.status === status).length
  lines.push(
    `${rows.length} cases from ${CASE_FILES.join(', ')}: ${count('pass')} passed, ` +
      `${count('fail')} failed, ${count('skip')} skipped`,
  )
  console.log(lines.map((line) => `# ${line}`).join('\n'))
}
