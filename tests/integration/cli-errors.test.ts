import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { runPeregrine, scratchFile } from '../support/peregrine-command.js'
import type { CommandResult } from '../support/peregrine-command.js'

/** Runs the peregrine command with the test stack's environment and metrics off. */
async function peregrine(args: string[], env: Record<string, string> = {}): Promise<CommandResult> {
  return await runPeregrine(args, {
    env: { PEREGRINE_METRICS_PORT: '-1', PEREGRINE_LOG_LEVEL: 'error', ...env },
  })
}

describe('peregrine command on bad input', () => {
  it('stops on a rules file with a syntax error, naming file and line', async () => {
    const rules = scratchFile(
      'broken_rules.yaml',
      '- rule: Broken\n  desc: x\n  condition: evt.type = open and (proc.name = cat\n  output: "x"\n  priority: WARNING\n',
    )

    const result = await peregrine(['process', '--rules', rules])

    assert.equal(result.code, 1)
    assert.match(result.stderr, /PEREGRINE_RULES_INVALID/)
    assert.match(result.stderr, /broken_rules\.yaml:3:\d+/)
    assert.match(result.stderr, /Broken/)
  })

  it('stops on an invalid setting, listing each problem', async () => {
    const result = await peregrine(['probe', '--source', 'generator:1'], {
      PEREGRINE_KAFKA_RETRIES: 'many',
      PEREGRINE_TOPICS_PARTITIONS: '0',
    })

    assert.equal(result.code, 1)
    assert.match(result.stderr, /PEREGRINE_KAFKA_RETRIES="many": must be a whole number/)
    assert.match(result.stderr, /PEREGRINE_TOPICS_PARTITIONS="0": must be at least 1/)
  })

  it('rejects an unknown source form with the accepted ones', async () => {
    const result = await peregrine(['probe', '--source', 'pcap:/tmp/x'])

    assert.equal(result.code, 1)
    assert.match(result.stderr, /--source "pcap:\/tmp\/x" is invalid; use capture:FILE/)
  })

  it('fails on a capture file that does not exist', async () => {
    const result = await peregrine(['probe', '--source', 'capture:/nonexistent/trace.scap'])

    assert.equal(result.code, 1)
    assert.match(result.stderr, /\/nonexistent\/trace\.scap does not exist/)
  })

  it('fails on a file that is not a capture', async () => {
    const notScap = scratchFile('notes.scap', 'these are notes, not a capture\n')

    const result = await peregrine(['probe', '--source', `capture:${notScap}`])

    assert.equal(result.code, 1)
    assert.match(result.stderr, /PEREGRINE_SOURCE_FAILED/)
    assert.match(result.stderr, /notes\.scap/)
  })
})
