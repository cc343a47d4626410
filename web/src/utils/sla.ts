/**
 * SLA badge logic (metrics.md §A.2 target states) and countdown text (§I duration display).
 * Pure functions: the components feed them the current time.
 */
import { formatDuration, type AppLocale } from './format'

export const TARGET_METRICS = ['first_reply', 'next_reply', 'resolution'] as const
export const TARGET_STATES = ['active', 'paused', 'achieved', 'breached', 'cancelled'] as const

/** What a badge shows. `overdue` = still `active` on the server but past due in the browser. */
export type SlaBadgeKind = 'none' | 'running' | 'warning' | 'overdue' | 'breached' | 'paused' | 'achieved' | 'cancelled'
export type SlaTone = 'danger' | 'warning' | 'primary' | 'success' | 'info'

export interface SlaLike {
  state: string
  due_at: string | null
  warned?: boolean
  warn_at?: string | null
  metric?: string
}

export interface SlaBadgeView {
  kind: SlaBadgeKind
  tone: SlaTone
  /** due − now in milliseconds (negative when past due); null without a due time. */
  remainingMs: number | null
  /** The countdown is running (active target with a due time). */
  ticking: boolean
}

/** Parse an API timestamp (ISO; a timestamp without offset is UTC). */
export function parseInstant(value: string | null | undefined): number | null {
  if (!value) return null
  const hasZone = /[zZ]|[+-]\d{2}:?\d{2}$/.test(value)
  const ms = new Date(hasZone ? value : value + 'Z').getTime()
  return Number.isNaN(ms) ? null : ms
}

const TONES: Record<SlaBadgeKind, SlaTone> = {
  none: 'info',
  running: 'primary',
  warning: 'warning',
  overdue: 'danger',
  breached: 'danger',
  paused: 'info',
  achieved: 'success',
  cancelled: 'info',
}

/**
 * The badge of one target at `now`:
 * - red when the server says breached, when the due time has passed in the browser (the server
 *   scanner confirms within seconds), or when the ticket carries a red flag (escalated);
 * - amber when the target was warned (or its warn time passed), or the ticket has an amber flag;
 * - grey when paused/cancelled, green when achieved, blue while the clock runs.
 */
export function slaBadgeView(sla: SlaLike | null | undefined, now: number, flagColor?: string | null): SlaBadgeView {
  let kind: SlaBadgeKind
  let remainingMs: number | null = null
  let ticking = false
  if (!sla) {
    kind = 'none'
  } else {
    const due = parseInstant(sla.due_at)
    remainingMs = due === null ? null : due - now
    switch (sla.state) {
      case 'breached':
        kind = 'breached'
        break
      case 'active': {
        ticking = remainingMs !== null
        const warnAt = parseInstant(sla.warn_at)
        if (remainingMs !== null && remainingMs <= 0) kind = 'overdue'
        else if (sla.warned || (warnAt !== null && warnAt <= now)) kind = 'warning'
        else kind = 'running'
        break
      }
      case 'paused':
        kind = 'paused'
        break
      case 'achieved':
        kind = 'achieved'
        break
      case 'cancelled':
        kind = 'cancelled'
        break
      default:
        kind = 'none'
    }
  }
  let tone = TONES[kind]
  if (flagColor === 'red') tone = 'danger'
  else if (flagColor === 'amber' && (tone === 'primary' || tone === 'info') && kind !== 'cancelled') tone = 'warning'
  return { kind, tone, remainingMs, ticking }
}

/** True for the badge kinds shown as a breach ("已违约"). */
export function isBreachKind(kind: SlaBadgeKind): boolean {
  return kind === 'breached' || kind === 'overdue'
}

const SECOND_UNITS: Record<AppLocale, string> = { 'zh-CN': '秒', en: ' s' }

/**
 * A countdown or an overdue amount as text (absolute value): under a minute in whole seconds
 * (rounded up, so it reads "1 s" until the instant passes), then metrics.md §I durations —
 * whole minutes below 60 min, hours with 1 decimal up to 72 h, days with 1 decimal beyond.
 */
export function formatCountdown(ms: number, locale: AppLocale = 'zh-CN'): string {
  const abs = Math.abs(ms)
  if (abs < 60_000) return `${Math.ceil(abs / 1000)}${SECOND_UNITS[locale]}`
  return formatDuration(abs / 1000, locale)
}

/** Minutes (target length) in words: 30 → "30分钟", 960 → "16.0小时". */
export function formatTargetMinutes(minutes: number | null | undefined, locale: AppLocale = 'zh-CN'): string {
  if (minutes === null || minutes === undefined) return '—'
  if (minutes > 0 && minutes < 1) return `${Math.round(minutes * 60)}${SECOND_UNITS[locale]}`
  return formatDuration(minutes * 60, locale)
}

/** Delays (ms) before asking the server again after a countdown passed its due time. */
export const BREACH_CONFIRM_DELAYS_MS = [2500, 2000, 3000, 5000]

/** An active target whose due time has passed in the browser: the server has yet to confirm the breach. */
export function awaitingBreach(sla: SlaLike | null | undefined, now: number): boolean {
  if (!sla || sla.state !== 'active') return false
  const due = parseInstant(sla.due_at)
  return due !== null && due <= now
}
