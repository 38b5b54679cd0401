import type { ConditionNode, LiteralValue, Operand, RightOperand } from './condition-ast.js'
import { operandText } from './condition-ast.js'

/** Values that can be written without quotes: no blanks, brackets, commas, `=` or quotes. */
const BARE_VALUE = /^[A-Za-z0-9_./*:+@%-]+$/
const KEYWORDS = new Set(['and', 'or', 'not'])
const QUOTED_ESCAPES: Record<string, string> = { '\\': '\\\\', '"': '\\"', "'": '\\x27' }

/**
 * Writes a condition tree back as condition text, with every `and`, `or` and `not` operand in
 * parentheses, so the text parses to the same tree in this engine and in libsinsp's filter
 * parser (sysdig, Falco). Values are quoted unless they are plain words. Used to hand rules
 * with their macros and lists expanded to other tools.
 */
export function formatCondition(node: ConditionNode): string {
  switch (node.kind) {
    case 'and':
    case 'or':
      return node.children.map((child) => `(${formatCondition(child)})`).join(` ${node.kind} `)
    case 'not':
      return `not (${formatCondition(node.child)})`
    case 'macro':
      return node.name
    case 'check': {
      const left = formatOperand(node.left)
      const operator =
        node.quantifier === undefined ? node.operator : `${node.operator} ${node.quantifier}`
      if (node.right === undefined) return `${left} ${operator}`
      return `${left} ${operator} ${formatRight(node.right)}`
    }
  }
}

function formatOperand(operand: Operand): string {
  return operandText(operand)
}

function formatRight(right: RightOperand): string {
  if (right.kind === 'fieldValue') return `val(${formatOperand(right.operand)})`
  if (right.kind === 'list') return `(${right.values.map(formatValue).join(', ')})`
  return formatValue(right)
}

/**
 * Writes a value bare when it is a plain word, else in double quotes with `\` and `"` escaped
 * and `'` written as `\x27`, because libsinsp's parser in sysdig 0.29 rejects a single quote
 * inside double quotes.
 */
export function formatValue(value: LiteralValue): string {
  const text = value.value
  if (BARE_VALUE.test(text) && !KEYWORDS.has(text)) return text
  return `"${text.replace(/[\\"']/g, (char) => QUOTED_ESCAPES[char])}"`
}
