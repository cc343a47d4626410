/** Weekly-hours helpers for the calendar editor (servicelens/sla/schemas.py CalendarVersionIn). */
import type { WeeklyHours } from '@/api/types'

export const WEEKDAY_KEYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const

/** Mon–Fri 09:00–12:00 and 13:00–18:00 (lunch break), the server's default. */
export function officeHours(): WeeklyHours {
  const out: WeeklyHours = {}
  for (let d = 0; d < 7; d++) out[String(d)] = d < 5 ? [['09:00', '12:00'], ['13:00', '18:00']] : []
  return out
}

export function allDayHours(): WeeklyHours {
  const out: WeeklyHours = {}
  for (let d = 0; d < 7; d++) out[String(d)] = [['00:00', '24:00']]
  return out
}

export function emptyHours(): WeeklyHours {
  const out: WeeklyHours = {}
  for (let d = 0; d < 7; d++) out[String(d)] = []
  return out
}

/** All seven days present, intervals copied. */
export function normalizeHours(h: WeeklyHours | null | undefined): WeeklyHours {
  const out = emptyHours()
  for (let d = 0; d < 7; d++) out[String(d)] = (h?.[String(d)] ?? []).map((iv) => [iv[0], iv[1]])
  return out
}

/** "HH:MM" options every 15 minutes, 00:00 … 24:00 (24:00 only makes sense as an end). */
export function timeOptions(stepMinutes = 15): string[] {
  const out: string[] = []
  for (let m = 0; m <= 24 * 60; m += stepMinutes) {
    out.push(`${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`)
  }
  return out
}

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/

export function toMinutes(hhmm: string): number | null {
  if (!HHMM.test(hhmm)) return null
  const [h, m] = hhmm.split(':').map(Number)
  return h * 60 + m
}

export type IntervalError = 'badTime' | 'order' | 'overlap'

/** Errors of one day's intervals, by interval index (null = fine). */
export function dayErrors(intervals: string[][]): (IntervalError | null)[] {
  const parsed = intervals.map(([a, b]) => [toMinutes(a ?? ''), toMinutes(b ?? '')] as const)
  const errs: (IntervalError | null)[] = parsed.map(([a, b]) => {
    if (a === null || b === null || a === 24 * 60) return 'badTime'
    if (a >= b) return 'order'
    return null
  })
  const wellFormed = errs.map((e) => e === null)
  for (let i = 0; i < parsed.length; i++) {
    for (let j = 0; j < parsed.length; j++) {
      if (i === j || !wellFormed[i] || !wellFormed[j]) continue
      const [a1, b1] = parsed[i]
      const [a2, b2] = parsed[j]
      if (a1! < b2! && a2! < b1!) errs[i] = 'overlap'
    }
  }
  return errs
}

export function hoursValid(h: WeeklyHours): boolean {
  return Object.values(h).every((day) => dayErrors(day).every((e) => e === null))
}

/** Intervals sorted by start (the server accepts any order; this reads better). */
export function sortedHours(h: WeeklyHours): WeeklyHours {
  const out: WeeklyHours = {}
  for (const [d, day] of Object.entries(h)) {
    out[d] = [...day].sort((x, y) => (toMinutes(x[0]) ?? 0) - (toMinutes(y[0]) ?? 0))
  }
  return out
}

export function workingDays(h: WeeklyHours | null | undefined): number {
  return Object.values(h ?? {}).filter((day) => day.length > 0).length
}

/** "09:00–12:00, 13:00–18:00" */
export function intervalsText(intervals: string[][] | null | undefined): string {
  return (intervals ?? []).map(([a, b]) => `${a}–${b}`).join(', ')
}

/** The version in effect on a local date (largest effective_from ≤ day). */
export function versionOn<T extends { effective_from: string }>(versions: T[], day: string): T | null {
  let best: T | null = null
  for (const v of versions) if (v.effective_from <= day && (!best || v.effective_from > best.effective_from)) best = v
  return best
}
