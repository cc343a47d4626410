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

  it('keeps events before comments at the same instant', () => {
    const out = sortTimeline([cm(3, '2025-03-03T00:00:00Z', 'x'), ev(4, '2025-03-03T00:00:00Z', 'created')])
    expect(out.map((i) => i.kind)).toEqual(['event', 'comment'])
  })
})

describe('eventDetails', () => {
  it('extracts the readable parts of the data payload', () => {
    expect(
      eventDetails(ev(1, '2025-01-01T00:00:00Z', 'status_changed', { data: { resolution_code: 'fixed', note: '已更换' } })),
    ).toEqual([
      { kind: 'resolution', value: 'fixed' },
      { kind: 'note', value: '已更换' },
    ])
    expect(eventDetails(ev(1, '2025-01-01T00:00:00Z', 'assigned', { data: { assignee_name: '李四' } }))).toEqual([
      { kind: 'assignee', value: '李四' },
    ])
    expect(eventDetails(ev(1, '2025-01-01T00:00:00Z', 'created'))).toEqual([])
  })
})
