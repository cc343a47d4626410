/**
 * Display formatting (metrics.md §I): the organisation's timezone is
 * Asia/Shanghai, counts get thousands separators, values are rounded
 * half away from zero on their decimal representation only at display,
 * and a missing value is shown as "—".
 */

export const ORG_TIMEZONE = 'Asia/Shanghai'
export const EMPTY = '—'

type Maybe<T> = T | null | undefined

export type AppLocale = 'zh-CN' | 'en'

function isMissing(v: unknown): v is null | undefined {
  return v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))
}

/**
 * Round half away from zero using the shortest decimal representation of x
 * (like Python `Decimal(repr(x)).quantize(..., ROUND_HALF_UP)`), so that
 * 2.675 → 2.68 and 81.25 → 81.3, unlike Number.toFixed.
 */
export function roundHalfUp(x: number, decimals = 0): string {
  if (!Number.isFinite(x)) return String(x)
  const negative = x < 0 || Object.is(x, -0)
  const [mantissa, expPart] = Math.abs(x).toString().toLowerCase().split('e')
  const exp = expPart ? Number(expPart) : 0
  let [intPart, fracPart = ''] = mantissa.split('.')
  // Shift the decimal point by the exponent.
  let digits = intPart + fracPart
  let pointPos = intPart.length + exp
  if (pointPos < 0) {
    digits = '0'.repeat(-pointPos) + digits
    pointPos = 0
  }
  if (pointPos > digits.length) digits = digits + '0'.repeat(pointPos - digits.length)
  intPart = digits.slice(0, pointPos) || '0'
  fracPart = digits.slice(pointPos)
  const keep = fracPart.padEnd(decimals + 1, '0')
  let kept = intPart + keep.slice(0, decimals)
  const roundUp = keep.charCodeAt(decimals) - 48 >= 5
  if (roundUp) {
    // Add one to the last kept digit, carrying left.
    const arr = kept.split('').map(Number)
    let i = arr.length - 1
    while (i >= 0) {
      if (arr[i] === 9) {
        arr[i] = 0
        i -= 1
      } else {
        arr[i] += 1
        break
      }
    }
    kept = (i < 0 ? '1' : '') + arr.join('')
  }
  const intLen = kept.length - decimals
  let out = kept.slice(0, intLen).replace(/^0+(?=\d)/, '') || '0'
  if (decimals > 0) out += '.' + kept.slice(intLen)
  const isZero = /^[0.]+$/.test(out)
  return negative && !isZero ? '-' + out : out
}

function groupThousands(s: string): string {
  const [i, f] = s.split('.')
  const sign = i.startsWith('-') ? '-' : ''
  const digits = sign ? i.slice(1) : i
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return sign + grouped + (f !== undefined ? '.' + f : '')
}

/** Integer counts with thousands separators: 12345 → "12,345". */
export function formatCount(n: Maybe<number>): string {
  if (isMissing(n)) return EMPTY
  return groupThousands(roundHalfUp(n, 0))
}

/** A number with fixed decimals and thousands separators. */
export function formatNumber(n: Maybe<number>, decimals = 0): string {
  if (isMissing(n)) return EMPTY
  return groupThousands(roundHalfUp(n, decimals))
}

/** A rate stored as a fraction 0..1, shown as a percentage with 1 decimal: 0.923 → "92.3%". */
export function formatPercent(rate: Maybe<number>, decimals = 1): string {
  if (isMissing(rate)) return EMPTY
  return roundHalfUp(rate * 100, decimals) + '%'
}

/** Money as integer cents (CNY): 6000 → "¥60.00". */
export function formatMoney(cents: Maybe<number>, symbol = '¥'): string {
  if (isMissing(cents)) return EMPTY
  const s = groupThousands(roundHalfUp(cents / 100, 2))
  return s.startsWith('-') ? '-' + symbol + s.slice(1) : symbol + s
}

const DURATION_UNITS: Record<AppLocale, { min: string; h: string; d: string }> = {
  'zh-CN': { min: '分钟', h: '小时', d: '天' },
  en: { min: ' min', h: ' h', d: ' d' },
}

/**
 * Durations given in seconds: < 60 min as whole minutes, up to 72 h as hours
 * with 1 decimal, beyond that as days with 1 decimal.
 */
export function formatDuration(seconds: Maybe<number>, locale: AppLocale = 'zh-CN'): string {
  if (isMissing(seconds)) return EMPTY
  const u = DURATION_UNITS[locale]
  const minutes = seconds / 60
  const abs = Math.abs(minutes)
  if (abs < 60) return roundHalfUp(minutes, 0) + u.min
  if (abs <= 72 * 60) return roundHalfUp(minutes / 60, 1) + u.h
  return roundHalfUp(minutes / 1440, 1) + u.d
}

interface DateParts {
  year: string
  month: string
  day: string
  hour: string
  minute: string
  second: string
}

const partsFormatter = new Intl.DateTimeFormat('en-US', {
  timeZone: ORG_TIMEZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
})

function toDate(value: Maybe<string | number | Date>): Date | null {
  if (value === null || value === undefined || value === '') return null
  let d: Date
  if (value instanceof Date) d = value
  else if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(value)) {
    // An ISO timestamp without offset from the API is UTC.
    d = new Date(value + 'Z')
  } else d = new Date(value)
  return Number.isNaN(d.getTime()) ? null : d
}

function shanghaiParts(d: Date): DateParts {
  const out: Record<string, string> = {}
  for (const p of partsFormatter.formatToParts(d)) out[p.type] = p.value
  return out as unknown as DateParts
}

/** "2025-03-03 08:40" in Asia/Shanghai (seconds optional). */
export function formatDateTime(value: Maybe<string | number | Date>, withSeconds = false): string {
  const d = toDate(value)
  if (!d) return EMPTY
  const p = shanghaiParts(d)
  const base = `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`
  return withSeconds ? `${base}:${p.second}` : base
}

/** "2025-03-03" in Asia/Shanghai. */
export function formatDate(value: Maybe<string | number | Date>): string {
  const d = toDate(value)
  if (!d) return EMPTY
  const p = shanghaiParts(d)
  return `${p.year}-${p.month}-${p.day}`
}

/** Start of a local (Asia/Shanghai) day as an ISO timestamp with offset: "2025-03-03T00:00:00+08:00". */
export function dayStartIso(date: string): string {
  return `${date}T00:00:00+08:00`
}

/** Start of the local day after `date`, for half-open ranges [from, to). */
export function nextDayStartIso(date: string): string {
  const [y, m, d] = date.split('-').map(Number)
  const next = new Date(Date.UTC(y, m - 1, d + 1))
  const iso = next.toISOString().slice(0, 10)
  return `${iso}T00:00:00+08:00`
}

/** Whether a string is a YYYY-MM-DD date. */
export function isIsoDate(s: unknown): s is string {
  return typeof s === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(s)
}
