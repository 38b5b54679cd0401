import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { LineTooLongError, readLines } from './line-reader.js'

async function collect(chunks: Array<string | Buffer>, maxLineLength = 100): Promise<string[]> {
  const lines: string[] = []
  for await (const line of readLines(chunks, maxLineLength)) lines.push(line)
  return lines
}

describe('readLines', () => {
  test('joins lines split across chunks', async () => {
    assert.deepEqual(await collect(['ab', 'c\nd', 'e\n\nf']), ['abc', 'de', '', 'f'])
  })

  test('decodes a UTF-8 character split across buffers', async () => {
    const bytes = Buffer.from('é\n')

    assert.deepEqual(await collect([bytes.subarray(0, 1), bytes.subarray(1)]), ['é'])
  })

  test('removes the carriage return of CRLF endings', async () => {
    assert.deepEqual(await collect(['a\r\nb\r\n']), ['a', 'b'])
  })

  test('rejects a line longer than the limit with its number', async () => {
    await assert.rejects(collect(['ok\n', 'x'.repeat(11)], 10), (error: unknown) => {
      assert.ok(error instanceof LineTooLongError)
      assert.equal(error.lineNumber, 2)
      return true
    })
  })
})
