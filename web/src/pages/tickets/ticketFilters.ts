/** Ticket list filters: URL query ⇄ filter state ⇄ API query. */
import type { LocationQuery, LocationQueryRaw } from 'vue-router'
import type { TicketListQuery } from '@/api/endpoints'
import { dayStartIso, isIsoDate, nextDayStartIso } from '@/utils/format'
import { compactQuery, qIds, qInt, qList, qString } from '@/utils/query'

export const TICKET_STATUSES = ['new', 'assigned', 'in_progress', 'pending_customer', 'on_hold', 'resolved', 'closed'] as const
export const TICKET_TYPES = ['inquiry', 'repair', 'complaint', 'return', 'suggestion'] as const
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const
export const CHANNELS = ['phone', 'web', 'email', 'wechat', 'sms', 'app', 'api', 'social'] as const
export const SORTABLE_FIELDS = ['id', 'created_at', 'updated_at', 'priority', 'status', 'type', 'sla_due'] as const
export const DEFAULT_SORT = '-created_at'
export const PAGE_SIZES = [20, 50, 100]
export const DEFAULT_PAGE_SIZE = 20

export interface TicketFilters {
  status: string[]
  type: string[]
  priority: string[]
  team_id: number[]
  assignee_id: number[]
  region_id: number[]
  q: string
  /** Local (Asia/Shanghai) dates, inclusive: YYYY-MM-DD. */
  created_from: string
  created_to: string
  sort: string
  page: number
  page_size: number
}

export function emptyFilters(): TicketFilters {
  return {
    status: [],
    type: [],
    priority: [],
    team_id: [],
    assignee_id: [],
    region_id: [],
    q: '',
    created_from: '',
    created_to: '',
    sort: DEFAULT_SORT,
    page: 1,
    page_size: DEFAULT_PAGE_SIZE,
  }
}

function only<T extends string>(values: string[], allowed: readonly T[]): T[] {
  return values.filter((v): v is T => (allowed as readonly string[]).includes(v))
}

export function isValidSort(sort: string): boolean {
  const field = sort.startsWith('-') ? sort.slice(1) : sort
  return (SORTABLE_FIELDS as readonly string[]).includes(field)
}

export function filtersFromQuery(query: LocationQuery): TicketFilters {
  const sort = qString(query.sort)
  const from = qString(query.created_from)
  const to = qString(query.created_to)
  const pageSize = qInt(query.page_size, DEFAULT_PAGE_SIZE, 1, 100)
  return {
    status: only(qList(query.status), TICKET_STATUSES),
    type: only(qList(query.type), TICKET_TYPES),
    priority: only(qList(query.priority), PRIORITIES),
    team_id: qIds(query.team_id),
    assignee_id: qIds(query.assignee_id),
    region_id: qIds(query.region_id),
    q: qString(query.q),
    created_from: isIsoDate(from) ? from : '',
    created_to: isIsoDate(to) ? to : '',
    sort: sort && isValidSort(sort) ? sort : DEFAULT_SORT,
    page: qInt(query.page, 1),
    page_size: pageSize,
  }
}

/** The URL query for a filter state; defaults are left out. */
export function filtersToQuery(f: TicketFilters): LocationQueryRaw {
  return compactQuery({
    status: f.status,
    type: f.type,
    priority: f.priority,
    team_id: f.team_id,
    assignee_id: f.assignee_id,
    region_id: f.region_id,
    q: f.q.trim(),
    created_from: f.created_from,
    created_to: f.created_to,
    sort: f.sort === DEFAULT_SORT ? '' : f.sort,
    page: f.page === 1 ? '' : f.page,
    page_size: f.page_size === DEFAULT_PAGE_SIZE ? '' : f.page_size,
  })
}

/**
 * The API query. The date range picked in the UI is inclusive local days;
 * the API gets the half-open instant range [from 00:00, day after `to` 00:00) in +08:00.
 */
export function filtersToApi(f: TicketFilters): TicketListQuery {
  return {
    status: f.status,
    type: f.type,
    priority: f.priority,
    team_id: f.team_id,
    assignee_id: f.assignee_id,
    region_id: f.region_id,
    q: f.q.trim() || undefined,
    created_from: f.created_from ? dayStartIso(f.created_from) : undefined,
    created_to: f.created_to ? nextDayStartIso(f.created_to) : undefined,
    sort: f.sort,
    page: f.page,
    page_size: f.page_size,
  }
}

/** el-table sort-change → API sort string. */
export function sortFromTable(prop: string | null, order: 'ascending' | 'descending' | null): string {
  if (!prop || !order) return DEFAULT_SORT
  return order === 'descending' ? `-${prop}` : prop
}

/** API sort string → el-table default-sort. */
export function sortToTable(sort: string): { prop: string; order: 'ascending' | 'descending' } {
  return sort.startsWith('-') ? { prop: sort.slice(1), order: 'descending' } : { prop: sort, order: 'ascending' }
}
