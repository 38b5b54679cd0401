import { StringDecoder } from 'node:string_decoder'

/** A line longer than the reader's limit; the reader stops rather than buffer without bound. */
export class LineTooLongError extends Error {
  readonly lineNumber: number
  readonly maxLineLength: number

  constructor(lineNumber: number, maxLineLength: number) {
    super(`line ${lineNumber} is longer than ${maxLineLength} characters`)
    this.name = 'LineTooLongError'
    this.lineNumber = lineNumber
    this.maxLineLength = maxLineLength
  }
}

/**
 * Yields the lines of a byte or text stream without their `\n` or `\r\n`, pulling one chunk at a
 * time so that a slow consumer holds back the producer of the stream. Memory stays below one chunk
 * plus `maxLineLength` characters. Throws LineTooLongError on a longer line. A last line without a
 * trailing newline is yielded too.
 */
export async function* readLines(
  input: AsyncIterable<string | Buffer> | Iterable<string | Buffer>,
  maxLineLength: number,
): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8')
  let pending = ''
  let lineNumber = 0

  for await (const chunk of input) {
    pending += typeof chunk === 'string' ? chunk : decoder.write(chunk)
    let start = 0
    let end = pending.indexOf('\n', start)
    while (end !== -1) {
      lineNumber++
      if (end - start > maxLineLength) throw new LineTooLongError(lineNumber, maxLineLength)
      yield trimCarriageReturn(pending.slice(start, end))
      start = end + 1
      end = pending.indexOf('\n', start)
    }
    pending = pending.slice(start)
    if (pending.length > maxLineLength) throw new LineTooLongError(lineNumber + 1, maxLineLength)
  }

  pending += decoder.end()
  if (pending !== '') yield trimCarriageReturn(pending)
}

function trimCarriageReturn(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line
}
