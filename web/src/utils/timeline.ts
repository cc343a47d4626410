/** Pure helpers for the ticket timeline (sorting, de-duplication, event details). */
import type { TimelineItem } from '@/api/types'

function ts(at: string): number {
  const hasZone = /[zZ]|[+-]\d{2}:?\d{2}$/.test(at)
  return new Date(hasZone ? at : at + 'Z').getTime()
}

/**
 * Events and comments in time order. Ties keep events before comments and then
 * ascending ids, so a "created" event stays before the first reply written in the same second.
 * Events that only announce a comment (carrying data.comment_id of a comment in the list) are dropped.
 */
export function sortTimeline(items: TimelineItem[], order: 'asc' | 'desc' = 'asc'): TimelineItem[] {
  const commentIds = new Set(items.filter((i) => i.kind === 'comment').map((i) => i.id))
  const visible = items.filter((i) => {
    if (i.kind !== 'event') return true
    const cid = i.data && (i.data as Record<string, unknown>).comment_id
    return !(typeof cid === 'number' && commentIds.has(cid) && (i.event_kind === 'commented' || i.event_kind === 'replied'))
  })
  const sorted = [...visible].sort((a, b) => {
    const d = ts(a.at) - ts(b.at)
    if (d !== 0) return d
    if (a.kind !== b.kind) return a.kind === 'event' ? -1 : 1
    return a.id - b.id
  })
  return order === 'desc' ? sorted.reverse() : sorted
}

export type EventDetail =
  | { kind: 'assignee'; value: string }
  | { kind: 'resolution'; value: string }
  | { kind: 'note'; value: string }
  | { kind: 'priority'; value: string; from: string }

function str(v: unknown): string | null {
  if (typeof v === 'string' && v.trim()) return v
  if (typeof v === 'number') return String(v)
  return null
}

/** The readable parts of an event's `data` payload. */
export function eventDetails(item: TimelineItem): EventDetail[] {
  const data = (item.data ?? {}) as Record<string, unknown>
  const out: EventDetail[] = []
  const assignee =
    str(data.assignee_name) ??
    str((data.assignee as Record<string, unknown> | undefined)?.display_name) ??
    str(data.to_assignee_name)
  if (assignee) out.push({ kind: 'assignee', value: assignee })
  const code = str(data.resolution_code)
  if (code) out.push({ kind: 'resolution', value: code })
  const fromPriority = str(data.from_priority)
  const toPriority = str(data.to_priority)
  if (toPriority) out.push({ kind: 'priority', value: toPriority, from: fromPriority ?? '' })
  const note = str(data.note)
  if (note) out.push({ kind: 'note', value: note })
  return out
}
