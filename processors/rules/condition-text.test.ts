import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { formatCondition } from './condition-text.js'
import { parseCondition } from './condition-parser.js'

describe('formatCondition', () => {
  const conditions = [
    'evt.type = open and proc.name = cat',
    'not (fd.name startswith /etc or fd.name contains "id rsa")',
    'proc.name in (bash, "my shell", "(systemd)") and fd.name exists',
    `proc.cmdline contains "python -c 'import socket" or proc.args = ""`,
    'proc.aname[2] = sshd and evt.arg.flags contains O_CREAT',
    'fd.name = "a \\"quoted\\" \\\\ path" and proc.name != and',
    'proc.name in ()',
  ]

  for (const condition of conditions) {
    it(`writes text that parses to the same tree: ${condition}`, () => {
      const tree = parseCondition(condition)

      const text = formatCondition(tree)

      assert.deepEqual(stripOffsets(parseCondition(text)), stripOffsets(tree))
    })
  }

  it('writes a single quote inside double quotes as \\x27', () => {
    const text = formatCondition(parseCondition(`proc.cmdline contains "a'b"`))

    assert.equal(text, 'proc.cmdline contains "a\\x27b"')
  })
})

/** Drops offsets and quoting, which may differ between the written and the rewritten text. */
function stripOffsets(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (key, inner) =>
      key === 'offset' || key === 'isQuoted' ? undefined : inner,
    ),
  )
}
