/** Colours of the status / priority / type / flag tags (Element Plus tag types). */

export type TagType = 'primary' | 'success' | 'info' | 'warning' | 'danger'
export type TagEffect = 'dark' | 'light' | 'plain'
export interface TagStyle {
  type: TagType
  effect: TagEffect
}

export const STATUS_TAGS: Record<string, TagStyle> = {
  new: { type: 'danger', effect: 'light' },
  assigned: { type: 'primary', effect: 'light' },
  in_progress: { type: 'primary', effect: 'dark' },
  pending_customer: { type: 'warning', effect: 'light' },
  on_hold: { type: 'info', effect: 'light' },
  resolved: { type: 'success', effect: 'light' },
  closed: { type: 'info', effect: 'plain' },
}

export const PRIORITY_TAGS: Record<string, TagStyle> = {
  low: { type: 'info', effect: 'plain' },
  normal: { type: 'primary', effect: 'plain' },
  high: { type: 'warning', effect: 'light' },
  urgent: { type: 'danger', effect: 'dark' },
}

export const TYPE_TAGS: Record<string, TagStyle> = {
  inquiry: { type: 'primary', effect: 'plain' },
  repair: { type: 'warning', effect: 'plain' },
  complaint: { type: 'danger', effect: 'plain' },
  return: { type: 'info', effect: 'plain' },
  suggestion: { type: 'success', effect: 'plain' },
}

export const FLAG_TAGS: Record<string, TagStyle> = {
  red: { type: 'danger', effect: 'dark' },
  amber: { type: 'warning', effect: 'dark' },
}

const FALLBACK: TagStyle = { type: 'info', effect: 'plain' }

export function tagStyle(kind: 'status' | 'priority' | 'type' | 'flag', value: string | null | undefined): TagStyle {
  const table = { status: STATUS_TAGS, priority: PRIORITY_TAGS, type: TYPE_TAGS, flag: FLAG_TAGS }[kind]
  return (value && table[value]) || FALLBACK
}

/** Priority rank for client-side ordering (higher is more urgent). */
export const PRIORITY_RANK: Record<string, number> = { low: 0, normal: 1, high: 2, urgent: 3 }
