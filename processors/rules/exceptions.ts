import { ItemProblem } from './load-problem.js'
import type { ExceptionItem, ExceptionValue } from './rule-items.js'

/** Checks used while turning exceptions into text: each returns an error message or undefined. */
export interface ExceptionChecks {
  checkField: (field: string) => string | undefined
  checkOperator: (operator: string) => string | undefined
}

const LIST_OPERATORS = new Set(['in', 'intersects', 'pmatch'])
const LIST_MODIFIER_PATTERN = /\s(anyof|oneof|allof)$/

/**
 * Adds a rule's exceptions to its condition as Falco does:
 * `(condition) and not (exception1) and not (exception2)`. Exceptions without values add nothing.
 * Throws ItemProblem (LOAD_ERR_VALIDATE) for an exception of the wrong shape.
 */
export function applyExceptions(
  condition: string,
  exceptions: readonly ExceptionItem[],
  checks: ExceptionChecks,
): string {
  const parts: string[] = []
  for (const exception of exceptions) {
    const text = exceptionText(exception, checks)
    if (text !== undefined) parts.push(text)
  }
  if (parts.length === 0) return condition
  return `(${condition}) and not ${parts.join(' and not ')}`
}

function exceptionText(exception: ExceptionItem, checks: ExceptionChecks): string | undefined {
  const fields = exception.fields
  if (fields === undefined) return invalid(exception, 'the exception has no fields')
  if (Array.isArray(fields)) return tupleExceptionText(exception, fields, checks)

  checkOrFail(exception, checks.checkField(fields))
  const comp = exception.comps ?? 'in'
  if (Array.isArray(comp))
    return invalid(exception, 'comps must be one operator when fields is one field')
  checkOrFail(exception, checks.checkOperator(comp))
  if (!LIST_OPERATORS.has(comp) && !LIST_MODIFIER_PATTERN.test(comp)) {
    return invalid(exception, `operator '${comp}' needs a list of fields and values`)
  }
  if (exception.values.length === 0) return undefined
  const values = exception.values.map((value) => valueText(value, false))
  return `(${fields} ${comp} (${values.join(', ')}))`
}

function tupleExceptionText(
  exception: ExceptionItem,
  fields: string[],
  checks: ExceptionChecks,
): string | undefined {
  const comps = exception.comps ?? fields.map(() => '=')
  if (!Array.isArray(comps) || comps.length !== fields.length) {
    return invalid(exception, 'fields and comps lists must have equal length')
  }
  for (const field of fields) checkOrFail(exception, checks.checkField(field))
  for (const comp of comps) checkOrFail(exception, checks.checkOperator(comp))

  const tuples: string[] = []
  for (const tuple of exception.values) {
    if (!Array.isArray(tuple) || tuple.length !== fields.length) {
      return invalid(exception, 'fields and values lists must have equal length')
    }
    const checksText = fields.map((field, i) => {
      const isList = LIST_OPERATORS.has(comps[i]) || LIST_MODIFIER_PATTERN.test(comps[i])
      return `${field} ${comps[i]} ${valueText(tuple[i], isList)}`
    })
    tuples.push(`(${checksText.join(' and ')})`)
  }
  if (tuples.length === 0) return undefined
  return `(${tuples.join(' or ')})`
}

/**
 * Writes one value as condition text. Text with a space is double-quoted unless already quoted.
 * A value for a list operator is put in parentheses unless it already is, so a list name works.
 */
function valueText(value: ExceptionValue, isListOperand: boolean): string {
  if (Array.isArray(value)) return `(${value.map((item) => valueText(item, false)).join(', ')})`
  const text = quoteIfSpaced(value)
  if (!isListOperand || (text.startsWith('(') && text.endsWith(')'))) return text
  return `(${text})`
}

/** Double-quotes a list item or value that contains a space, unless it is already quoted. */
export function quoteIfSpaced(text: string): string {
  if (!text.includes(' ')) return text
  const isQuoted =
    text.length >= 2 &&
    ((text.startsWith('"') && text.endsWith('"')) || (text.startsWith("'") && text.endsWith("'")))
  return isQuoted ? text : `"${text}"`
}

function checkOrFail(exception: ExceptionItem, message: string | undefined): void {
  if (message !== undefined) invalid(exception, message)
}

function invalid(exception: ExceptionItem, message: string): never {
  const subject = { name: exception.name, type: 'exception' }
  throw new ItemProblem('LOAD_ERR_VALIDATE', message, exception.position, subject)
}
