/** Syntax tree of a Falco condition. Offsets are 0-based character offsets in the condition. */
export type ConditionNode = BooleanNode | NotNode | MacroNode | CheckNode

export interface BooleanNode {
  kind: 'and' | 'or'
  children: ConditionNode[]
}

export interface NotNode {
  kind: 'not'
  child: ConditionNode
}

/** A bare identifier where a check is expected: a macro reference. */
export interface MacroNode {
  kind: 'macro'
  name: string
  offset: number
}

export type Quantifier = 'anyof' | 'oneof' | 'allof'

/** `left operator right`, or `left exists` without a right side. */
export interface CheckNode {
  kind: 'check'
  left: Operand
  operator: string
  quantifier?: Quantifier
  right?: RightOperand
  offset: number
}

/** A field with its optional `[argument]`, or a transformer applied to operands. */
export type Operand = FieldOperand | TransformerOperand

export interface FieldOperand {
  kind: 'field'
  name: string
  arg?: string
  offset: number
}

export interface TransformerOperand {
  kind: 'transformer'
  name: string
  args: (Operand | LiteralValue)[]
  offset: number
}

export interface LiteralValue {
  kind: 'value'
  value: string
  isQuoted: boolean
}

export interface ListValue {
  kind: 'list'
  values: LiteralValue[]
}

/** `val(field)`: the value of another field of the same event. */
export interface FieldValue {
  kind: 'fieldValue'
  operand: Operand
}

export type RightOperand = LiteralValue | ListValue | FieldValue

/** Returns the text form of an operand as it appears in outputs: `proc.aname[2]`, `tolower(x)`. */
export function operandText(operand: Operand | LiteralValue): string {
  if (operand.kind === 'value')
    return operand.isQuoted ? JSON.stringify(operand.value) : operand.value
  if (operand.kind === 'field') {
    return operand.arg === undefined ? operand.name : `${operand.name}[${operand.arg}]`
  }
  return `${operand.name}(${operand.args.map(operandText).join(', ')})`
}
