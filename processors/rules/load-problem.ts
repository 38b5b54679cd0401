import { RuleError } from '../../core/errors.js'

/** Falco's codes for load errors; any of them makes the load fail. */
export type LoadErrorCode =
  | 'LOAD_ERR_FILE_READ'
  | 'LOAD_ERR_YAML_PARSE'
  | 'LOAD_ERR_YAML_VALIDATE'
  | 'LOAD_ERR_VALIDATE'
  | 'LOAD_ERR_COMPILE_CONDITION'
  | 'LOAD_ERR_COMPILE_OUTPUT'

/** Falco's codes for load warnings; the rule set still loads. */
export type LoadWarningCode =
  | 'LOAD_UNKNOWN_SOURCE'
  | 'LOAD_UNSAFE_NA_CHECK'
  | 'LOAD_NO_EVTTYPE'
  | 'LOAD_UNKNOWN_FILTER'
  | 'LOAD_UNUSED_MACRO'
  | 'LOAD_UNUSED_LIST'
  | 'LOAD_UNKNOWN_ITEM'
  | 'LOAD_DEPRECATED_ITEM'
  | 'LOAD_APPEND_NO_VALUES'
  | 'LOAD_EXCEPTION_NAME_NOT_UNIQUE'
  | 'LOAD_INVALID_MACRO_NAME'
  | 'LOAD_INVALID_LIST_NAME'
  | 'LOAD_COMPILE_CONDITION'
  | 'LOAD_UNKNOWN_KEY'

/** Place in a rules file: 1-based line and column. */
export interface SourcePosition {
  file: string
  line: number
  column: number
}

/** One load error or warning, located in its file and named after its item. */
export interface LoadProblem<Code extends string = string> extends SourcePosition {
  code: Code
  message: string
  item?: string
  itemType?: string
}

/** The part of an item a problem is about, when it is not the item itself: an exception. */
export interface ProblemSubject {
  name: string
  type: string
}

/** Thrown inside the loader to abandon one item; the loader records it and goes on. */
export class ItemProblem extends Error {
  constructor(
    readonly code: LoadErrorCode,
    message: string,
    readonly position?: SourcePosition,
    readonly subject?: ProblemSubject,
  ) {
    super(message)
  }
}

/** Collects the errors and warnings of one load, in the order they were found. */
export class LoadReport {
  readonly errors: LoadProblem<LoadErrorCode>[] = []
  readonly warnings: LoadProblem<LoadWarningCode>[] = []

  error(problem: LoadProblem<LoadErrorCode>): void {
    this.errors.push(problem)
  }

  warn(problem: LoadProblem<LoadWarningCode>): void {
    this.warnings.push(problem)
  }

  /** Throws one RuleError that lists every error, when there is at least one. */
  throwIfFailed(): void {
    if (this.errors.length === 0) return
    const lines = this.errors.map(formatProblem)
    const message = `loading rules failed with ${this.errors.length} error(s):\n${lines.join('\n')}`
    const first = this.errors[0]
    throw new RuleError(message, {
      context: {
        file: first.file,
        line: first.line,
        column: first.column,
        ruleId: first.item,
        errors: this.errors,
        warnings: this.warnings,
      },
    })
  }
}

/** Formats a problem as `file:line:column: CODE: item 'name': message`. */
export function formatProblem(problem: LoadProblem): string {
  const item = problem.item === undefined ? '' : ` ${problem.itemType ?? 'item'} '${problem.item}':`
  const where = `${problem.file}:${problem.line}:${problem.column}`
  return `${where}: ${problem.code}:${item} ${problem.message}`
}
