/** Pure helpers for the ticket timeline (sorting, de-duplication, event details). */
import type { TimelineItem } from '@/api/types'

function ts(at: string): number {
  const hasZone = /[zZ]|[+-]\d{2}:?\d{2}$/.test(at)
  return new Date(hasZone ? at : at + 'Z').getTime()
}

/**
 * Events and comments in time order. Items at the same instant keep the server's order
 * (a comment comes before the event it caused). Events that only announce a comment
 * ("replied"/"commented" with data.comment_id of a comment in the list) are dropped,
 * since the comment itself is shown.
 */
export function sortTimeline(items: TimelineItem[], order: 'asc' | 'desc' = 'asc'): TimelineItem[] {
  const commentIds = new Set(items.filter((i) => i.kind === 'comment').map((i) => i.id))
  const visible = items.filter((i) => {
    if (i.kind !== 'event') return true
    const cid = i.data && (i.data as Record<string, unknown>).comment_id
    return !(typeof cid === 'number' && commentIds.has(cid) && (i.event_kind === 'commented' || i.event_kind === 'replied'))
  })
  const indexed = visible.map((item, index) => ({ item, index, t: ts(item.at) }))
  indexed.sort((a, b) => a.t - b.t || a.index - b.index)
  const sorted = indexed.map((x) => x.item)
  return order === 'desc' ? sorted.reverse() : sorted
}

export type EventDetail =
  | { kind: 'assignee'; value: number | null; from: number | null }
  | { kind: 'resolution'; value: string }
  | { kind: 'note'; value: string }
  | { kind: 'flag'; value: string }
  | { kind: 'reopenCount'; value: number }
  | { kind: 'change'; field: string; from: unknown; value: unknown }
  | { kind: 'mergedFrom'; value: number; subject: string }
  | { kind: 'mergedInto'; value: number }
  | { kind: 'followup'; value: number }
  | { kind: 'slaTarget'; metric: string; due: string | null }
  | { kind: 'escalation'; rule: string; level: number }

function str(v: unknown): string | null {
  if (typeof v === 'string' && v.trim()) return v
  return null
}
function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null
}

/** The readable parts of an event's `data` payload (shapes as written by servicelens/tickets/service.py). */
export function eventDetails(item: TimelineItem): EventDetail[] {
  const data = (item.data ?? {}) as Record<string, unknown>
  const out: EventDetail[] = []
  if (item.event_kind === 'assigned' && 'assignee_id' in data) {
    out.push({ kind: 'assignee', value: num(data.assignee_id), from: num(data.previous) })
  }
  if (item.event_kind === 'flagged' && str(data.color)) out.push({ kind: 'flag', value: str(data.color)! })
  if (item.event_kind === 'reopened' && num(data.reopen_count) !== null) {
    out.push({ kind: 'reopenCount', value: num(data.reopen_count)! })
  }
  if (item.event_kind === 'merged' && num(data.source) !== null) {
    out.push({ kind: 'mergedFrom', value: num(data.source)!, subject: str(data.source_subject) ?? '' })
  }
  if (item.event_kind === 'merged_into' && num(data.into) !== null) {
    out.push({ kind: 'mergedInto', value: num(data.into)! })
  }
  if (item.event_kind === 'followup_created' && num(data.followup_id) !== null) {
    out.push({ kind: 'followup', value: num(data.followup_id)! })
  }
  if ((item.event_kind === 'sla_warning' || item.event_kind === 'sla_breached') && str(data.metric)) {
    out.push({ kind: 'slaTarget', metric: str(data.metric)!, due: str(data.due_at) })
  }
  if (item.event_kind === 'escalated' && num(data.level) !== null) {
    out.push({ kind: 'escalation', rule: str(data.rule_name) ?? '', level: num(data.level)! })
  }
  if (item.event_kind === 'priority_changed' && str(data.priority)) {
    out.push({ kind: 'change', field: 'priority', from: data.previous, value: data.priority })
  }
  const changes = data.changes
  if (changes && typeof changes === 'object' && !Array.isArray(changes)) {
    for (const [field, pair] of Object.entries(changes as Record<string, unknown>)) {
      const [from, to] = Array.isArray(pair) ? pair : [undefined, pair]
      out.push({ kind: 'change', field, from, value: to })
    }
  }
  const code = str(data.resolution_code)
  if (code) out.push({ kind: 'resolution', value: code })
  const note = str(data.note)
  if (note) out.push({ kind: 'note', value: note })
  return out
}
