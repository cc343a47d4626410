// @vitest-environment node
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_SORT,
  emptyFilters,
  filtersFromQuery,
  filtersToApi,
  filtersToQuery,
  isValidSort,
  sortFromTable,
  sortToTable,
} from '@/pages/tickets/ticketFilters'
import { transitionLabelKey } from '@/pages/tickets/transitions'

describe('ticket list filters ⇄ URL', () => {
  it('parses the URL query, ignoring unknown values', () => {
    const f = filtersFromQuery({
      status: ['new', 'bogus', 'assigned'],
      priority: 'urgent',
      team_id: ['3', 'x', '-1'],
      q: '漏水',
      created_from: '2025-03-01',
      created_to: 'yesterday',
      sort: 'drop table',
      page: '3',
      page_size: '500',
    })
    expect(f.status).toEqual(['new', 'assigned'])
    expect(f.priority).toEqual(['urgent'])
    expect(f.team_id).toEqual([3])
    expect(f.q).toBe('漏水')
    expect(f.created_from).toBe('2025-03-01')
    expect(f.created_to).toBe('')
    expect(f.sort).toBe(DEFAULT_SORT)
    expect(f.page).toBe(3)
    expect(f.page_size).toBe(100)
  })

  it('round-trips and leaves defaults out of the URL', () => {
    expect(filtersToQuery(emptyFilters())).toEqual({})
    const f = { ...emptyFilters(), status: ['new'], assignee_id: [7], sort: 'priority', page: 2 }
    const q = filtersToQuery(f)
    expect(q).toEqual({ status: ['new'], assignee_id: ['7'], sort: 'priority', page: '2' })
    expect(filtersFromQuery(q as never)).toEqual(f)
  })

  it('turns the inclusive local date range into a half-open instant range', () => {
    const api = filtersToApi({ ...emptyFilters(), created_from: '2025-03-01', created_to: '2025-03-31', q: '  a  ' })
    expect(api.created_from).toBe('2025-03-01T00:00:00+08:00')
    expect(api.created_to).toBe('2025-04-01T00:00:00+08:00')
    expect(api.q).toBe('a')
    expect(api.sort).toBe('-created_at')
  })

  it('maps table sorting', () => {
    expect(sortFromTable('priority', 'descending')).toBe('-priority')
    expect(sortFromTable('id', 'ascending')).toBe('id')
    expect(sortFromTable('id', null)).toBe(DEFAULT_SORT)
    expect(sortToTable('-updated_at')).toEqual({ prop: 'updated_at', order: 'descending' })
  })
})

describe('transition labels', () => {
  it('calls leaving resolved for an open status a reopen', () => {
    expect(transitionLabelKey('resolved', 'in_progress')).toBe('ticket.transitions.reopen')
    expect(transitionLabelKey('resolved', 'closed')).toBe('ticket.transitions.closed')
    expect(transitionLabelKey('assigned', 'in_progress')).toBe('ticket.transitions.in_progress')
  })
})

describe('SLA urgency sort', () => {
  it('accepts sla_due as a sort field (the agent queue by urgency)', () => {
    expect(isValidSort('sla_due')).toBe(true)
    expect(sortFromTable('sla_due', 'ascending')).toBe('sla_due')
  })
})
