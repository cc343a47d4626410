// @vitest-environment node
import { describe, expect, it } from 'vitest'
import type { TimelineItem } from '@/api/types'
import { eventDetails, sortTimeline } from '@/utils/timeline'

const ev = (id: number, at: string, event_kind: string, extra: Partial<TimelineItem> = {}): TimelineItem => ({
  kind: 'event',
  id,
  at,
  actor: null,
  event_kind,
  ...extra,
})
const cm = (id: number, at: string, body: string, pub = true): TimelineItem => ({
  kind: 'comment',
  id,
  at,
  actor: { id: 2, display_name: '张三' },
  body,
  public: pub,
  author_kind: 'agent',
})

describe('sortTimeline', () => {
  const items = [
    cm(1, '2025-03-03T01:25:00Z', 'reply'),
    ev(10, '2025-03-03T00:40:00Z', 'created'),
    ev(12, '2025-03-03T02:00:00+00:00', 'status_changed', { from_status: 'assigned', to_status: 'in_progress' }),
    ev(11, '2025-03-03T01:25:00Z', 'replied', { data: { comment_id: 1 } }),
    cm(2, '2025-03-03T10:00:00+08:00', 'note', false),
  ]

  it('merges events and comments in time order and drops events that only echo a comment', () => {
    const asc = sortTimeline(items, 'asc').map((i) => `${i.kind}:${i.id}`)
    expect(asc).toEqual(['event:10', 'comment:1', 'event:12', 'comment:2'])
  })

  it('can show the newest first', () => {
    expect(sortTimeline(items, 'desc').map((i) => i.id)).toEqual([2, 12, 1, 10])
  })

  it('keeps the server order for items at the same instant', () => {
    const out = sortTimeline([cm(3, '2025-03-03T00:00:00Z', 'x'), ev(4, '2025-03-03T00:00:00Z', 'status_changed')])
    expect(out.map((i) => i.kind)).toEqual(['comment', 'event'])
    const rev = sortTimeline([ev(4, '2025-03-03T00:00:00Z', 'created'), cm(3, '2025-03-03T00:00:00Z', 'x')])
    expect(rev.map((i) => i.kind)).toEqual(['event', 'comment'])
  })
})

describe('eventDetails', () => {
  const at = '2025-01-01T00:00:00Z'
  it('reads status changes with resolution code and note', () => {
    expect(eventDetails(ev(1, at, 'status_changed', { data: { resolution_code: 'fixed', note: '已更换' } }))).toEqual([
      { kind: 'resolution', value: 'fixed' },
      { kind: 'note', value: '已更换' },
    ])
  })
  it('reads assignments (ids), flags, reopen counts and field changes', () => {
    expect(eventDetails(ev(1, at, 'assigned', { data: { assignee_id: 5, previous: null } }))).toEqual([
      { kind: 'assignee', value: 5, from: null },
    ])
    expect(eventDetails(ev(1, at, 'assigned', { data: { assignee_id: null, previous: 5 } }))).toEqual([
      { kind: 'assignee', value: null, from: 5 },
    ])
    expect(eventDetails(ev(1, at, 'flagged', { data: { color: 'red', previous: 'none' } }))).toEqual([{ kind: 'flag', value: 'red' }])
    expect(eventDetails(ev(1, at, 'reopened', { data: { reopen_count: 2 } }))).toEqual([{ kind: 'reopenCount', value: 2 }])
    expect(eventDetails(ev(1, at, 'updated', { data: { changes: { priority: ['normal', 'urgent'] } } }))).toEqual([
      { kind: 'change', field: 'priority', from: 'normal', value: 'urgent' },
    ])
    expect(eventDetails(ev(1, at, 'merged_into', { data: { into: 9 } }))).toEqual([{ kind: 'mergedInto', value: 9 }])
    expect(eventDetails(ev(1, at, 'created', { data: { channel: 'phone' } }))).toEqual([])
  })
})
