import { NEWLINE, parseRegex, PERL_CLASSES, RegexSyntaxError } from './regex-parser.js'
import type { AssertionKind, CharTest, RegexNode } from './regex-parser.js'

export { RegexSyntaxError } from './regex-parser.js'

/** Compiled program size above which a pattern is rejected, to bound memory and match time. */
export const MAX_REGEX_INSTRUCTIONS = 20000

type Instruction =
  | { op: 'char'; test: CharTest }
  | { op: 'split'; first: number; second: number }
  | { op: 'jump'; target: number }
  | { op: 'assert'; assertion: AssertionKind }
  | { op: 'match' }

/**
 * Compiles a pattern in RE2 syntax into a matcher that tests whether the whole text matches, as
 * Falco's `regex` operator does. Matching simulates all paths of the automaton at once (a Pike
 * VM without captures), so it takes O(text × pattern) time on any input and cannot hang on
 * attacker-controlled values. Supports literals, `.`, classes (`[a-z]`, `[^...]`, `[[:alpha:]]`,
 * `\d \w \s` and their negations), groups (`(...)`, `(?:...)`, `(?P<name>...)`), `|`,
 * `* + ? {m} {m,} {m,n}` (lazy forms too), `^ $ \A \z \b \B`, and the flags `i`, `s`, `m`, `U`.
 * Unicode classes (`\pL`) are not supported. Throws RegexSyntaxError.
 */
export function compileLinearRegex(pattern: string): (text: string) => boolean {
  const tree = parseRegex(pattern)
  const program: Instruction[] = []
  emit(tree, program)
  program.push({ op: 'match' })
  return (text) => runProgram(program, text)
}

function emit(node: RegexNode, program: Instruction[]): void {
  if (program.length > MAX_REGEX_INSTRUCTIONS) {
    throw new RegexSyntaxError(
      `pattern compiles to more than ${MAX_REGEX_INSTRUCTIONS} instructions`,
    )
  }
  switch (node.kind) {
    case 'char':
      program.push({ op: 'char', test: node.test })
      return
    case 'assert':
      program.push({ op: 'assert', assertion: node.assertion })
      return
    case 'empty':
      return
    case 'concat':
      for (const item of node.items) emit(item, program)
      return
    case 'alternate':
      return emitAlternation(node.items, program)
    case 'repeat':
      return emitRepeat(node.item, node.min, node.max, program)
  }
}

function emitAlternation(items: RegexNode[], program: Instruction[]): void {
  const jumps: { op: 'jump'; target: number }[] = []
  for (let i = 0; i < items.length; i++) {
    if (i === items.length - 1) {
      emit(items[i], program)
      break
    }
    const split: Instruction = { op: 'split', first: program.length + 1, second: 0 }
    program.push(split)
    emit(items[i], program)
    const jump = { op: 'jump' as const, target: 0 }
    jumps.push(jump)
    program.push(jump)
    split.second = program.length
  }
  for (const jump of jumps) jump.target = program.length
}

function emitRepeat(item: RegexNode, min: number, max: number, program: Instruction[]): void {
  for (let i = 0; i < min; i++) emit(item, program)
  if (max === Infinity) {
    const split: Instruction = { op: 'split', first: program.length + 1, second: 0 }
    const loopStart = program.length
    program.push(split)
    emit(item, program)
    program.push({ op: 'jump', target: loopStart })
    split.second = program.length
    return
  }
  const splits: Extract<Instruction, { op: 'split' }>[] = []
  for (let i = min; i < max; i++) {
    const split = { op: 'split' as const, first: program.length + 1, second: 0 }
    splits.push(split)
    program.push(split)
    emit(item, program)
  }
  for (const split of splits) split.second = program.length
}

/** Runs the program over the whole text, keeping at most one thread per instruction. */
function runProgram(program: Instruction[], text: string): boolean {
  const codes = Array.from(text, (char) => char.codePointAt(0) ?? 0)
  const marks = new Int32Array(program.length).fill(-1)
  let current: number[] = []
  let next: number[] = []
  addThread(program, current, marks, 0, codes, 0)
  for (let position = 0; position < codes.length; position++) {
    if (current.length === 0) return false
    next.length = 0
    const code = codes[position]
    for (const pc of current) {
      const instruction = program[pc]
      if (instruction.op === 'char' && instruction.test(code)) {
        addThread(program, next, marks, pc + 1, codes, position + 1)
      }
    }
    ;[current, next] = [next, current]
  }
  return current.some((pc) => program[pc].op === 'match')
}

/** Adds a thread and follows jumps, splits and assertions that hold at `position`. */
function addThread(
  program: Instruction[],
  list: number[],
  marks: Int32Array,
  start: number,
  codes: number[],
  position: number,
): void {
  const stack = [start]
  while (stack.length > 0) {
    const pc = stack.pop() as number
    if (marks[pc] === position) continue
    marks[pc] = position
    const instruction = program[pc]
    if (instruction.op === 'jump') {
      stack.push(instruction.target)
    } else if (instruction.op === 'split') {
      stack.push(instruction.second, instruction.first)
    } else if (instruction.op === 'assert') {
      if (assertionHolds(instruction.assertion, codes, position)) stack.push(pc + 1)
    } else {
      list.push(pc)
    }
  }
}

function assertionHolds(assertion: AssertionKind, codes: number[], position: number): boolean {
  switch (assertion) {
    case 'textStart':
      return position === 0
    case 'textEnd':
      return position === codes.length
    case 'lineStart':
      return position === 0 || codes[position - 1] === NEWLINE
    case 'lineEnd':
      return position === codes.length || codes[position] === NEWLINE
    case 'wordBoundary':
    case 'notWordBoundary': {
      const isBoundary = isWordCode(codes[position - 1]) !== isWordCode(codes[position])
      return isBoundary === (assertion === 'wordBoundary')
    }
  }
}

function isWordCode(code: number | undefined): boolean {
  if (code === undefined) return false
  return PERL_CLASSES.w.some(([low, high]) => code >= low && code <= high)
}
