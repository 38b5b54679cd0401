import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { meetsMinimumPriority, priorityRank } from './priority.js'

describe('priorityRank', () => {
  it('ranks Falco priorities from Emergency to Debug', () => {
    assert.equal(priorityRank('Emergency'), 0)
    assert.equal(priorityRank('critical'), 2)
    assert.equal(priorityRank('DEBUG'), 7)
  })

  it('accepts the info alias', () => {
    assert.equal(priorityRank('info'), priorityRank('Informational'))
  })

  it('returns undefined for unknown names', () => {
    assert.equal(priorityRank('severe'), undefined)
  })
})

describe('meetsMinimumPriority', () => {
  it('passes equal and more severe priorities', () => {
    assert.equal(meetsMinimumPriority('Warning', 'warning'), true)
    assert.equal(meetsMinimumPriority('Critical', 'warning'), true)
  })

  it('filters less severe priorities', () => {
    assert.equal(meetsMinimumPriority('Notice', 'warning'), false)
  })

  it('passes unknown priorities so they are not lost', () => {
    assert.equal(meetsMinimumPriority('Severe', 'critical'), true)
  })
})
