import type { TicketDetail } from '@/api/types'

export function ticketDetail(overrides: Partial<TicketDetail> = {}): TicketDetail {
  return {
    id: 7,
    subject: '热水器漏水',
    type: 'repair',
    channel: 'phone',
    priority: 'high',
    status: 'assigned',
    status_category: 'open',
    flag_color: 'red',
    customer: { id: 3, name: '王女士', tier: 'vip' },
    team: { id: 1, name: '华东售后' },
    assignee: { id: 2, display_name: '坐席一' },
    region: { id: 1, name: '华东' },
    product: { id: 1, name: 'JSQ-16' },
    created_at: '2025-03-03T00:40:00Z',
    updated_at: '2025-03-03T01:00:00Z',
    version: 3,
    description: '热水器底部漏水',
    category: null,
    component: null,
    resolution_code: null,
    fcr_marked: false,
    first_response_at: null,
    first_resolved_at: null,
    resolved_at: null,
    closed_at: null,
    reopen_count: 0,
    merged_into_id: null,
    followup_of_id: null,
    allowed_transitions: ['in_progress', 'pending_customer', 'on_hold', 'resolved'],
    timeline: [
      { kind: 'event', id: 1, at: '2025-03-03T00:40:00Z', actor: null, event_kind: 'created', to_status: 'new' },
      {
        kind: 'event',
        id: 2,
        at: '2025-03-03T00:45:00Z',
        actor: { id: 1, display_name: '主管' },
        event_kind: 'status_changed',
        from_status: 'new',
        to_status: 'assigned',
      },
    ],
    ...overrides,
  }
}

export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' },
  })
}

export function emptyPage(): Response {
  return json(200, { items: [], total: 0, page: 1, page_size: 20 })
}

/** Answers for the reference lists every page may ask for; undefined for anything else. */
export function referenceResponse(url: string): Response | undefined {
  if (url.startsWith('/api/v1/users') || url.startsWith('/api/v1/teams') || url.startsWith('/api/v1/regions')) {
    return emptyPage()
  }
  if (url.startsWith('/api/v1/tickets?customer_id=')) return emptyPage()
  const sla = /^\/api\/v1\/tickets\/(\d+)\/sla$/.exec(url)
  if (sla) return json(200, { ticket_id: Number(sla[1]), policy: null, targets: [], escalations: [], warnings: [] })
  return undefined
}
