// @vitest-environment node
import { describe, expect, it } from 'vitest'
import {
  EMPTY,
  dayStartIso,
  formatCount,
  formatDate,
  formatDateTime,
  formatDuration,
  formatMoney,
  formatNumber,
  formatPercent,
  nextDayStartIso,
  roundHalfUp,
} from '@/utils/format'

describe('roundHalfUp (metrics.md §I display rounding)', () => {
  it('rounds half away from zero on the decimal representation', () => {
    expect(roundHalfUp(81.25, 1)).toBe('81.3') // [I8]; toFixed gives 81.3 by luck, Python round gives 81.2
    expect(roundHalfUp(2.675, 2)).toBe('2.68') // [I16]; (2.675).toFixed(2) === '2.67'
    expect(roundHalfUp(1.005, 2)).toBe('1.01')
    expect(roundHalfUp(0.5, 0)).toBe('1')
    expect(roundHalfUp(-0.5, 0)).toBe('-1')
    expect(roundHalfUp(-2.675, 2)).toBe('-2.68')
  })
  it('handles carries, exponents and zeros', () => {
    expect(roundHalfUp(9.995, 2)).toBe('10.00')
    expect(roundHalfUp(99.95, 1)).toBe('100.0')
    expect(roundHalfUp(275.9999999999999, 0)).toBe('276') // [I1–I3] DuckDB p90
    expect(roundHalfUp(1e-7, 2)).toBe('0.00')
    expect(roundHalfUp(-1e-7, 2)).toBe('0.00')
    expect(roundHalfUp(1.5e21, 0)).toBe('1500000000000000000000')
    expect(roundHalfUp(4.3249, 2)).toBe('4.32') // [I14]
    expect(roundHalfUp(0, 1)).toBe('0.0')
  })
})

describe('counts and numbers', () => {
  it('uses thousands separators', () => {
    expect(formatCount(0)).toBe('0')
    expect(formatCount(999)).toBe('999')
    expect(formatCount(1000)).toBe('1,000')
    expect(formatCount(1234567)).toBe('1,234,567')
    expect(formatCount(-12345)).toBe('-12,345')
    expect(formatNumber(12345.678, 2)).toBe('12,345.68')
  })
  it('shows missing values as an em dash, never 0', () => {
    expect(formatCount(null)).toBe(EMPTY)
    expect(formatCount(undefined)).toBe(EMPTY)
    expect(formatCount(Number.NaN)).toBe(EMPTY)
    expect(formatPercent(null)).toBe(EMPTY)
    expect(formatDuration(null)).toBe(EMPTY)
    expect(formatMoney(undefined)).toBe(EMPTY)
  })
})

describe('rates, money and durations', () => {
  it('shows fractions as percentages with 1 decimal', () => {
    expect(formatPercent(0.923)).toBe('92.3%')
    expect(formatPercent(0.85)).toBe('85.0%')
    expect(formatPercent(0.78125)).toBe('78.1%')
    expect(formatPercent(1)).toBe('100.0%')
  })
  it('shows money in cents as CNY', () => {
    expect(formatMoney(6000)).toBe('¥60.00')
    expect(formatMoney(123456789)).toBe('¥1,234,567.89')
    expect(formatMoney(-150)).toBe('-¥1.50')
  })
  it('formats durations by size', () => {
    expect(formatDuration(25 * 60)).toBe('25分钟')
    expect(formatDuration(25 * 60, 'en')).toBe('25 min')
    expect(formatDuration(5.7 * 3600)).toBe('5.7小时')
    expect(formatDuration(72 * 3600, 'en')).toBe('72.0 h')
    expect(formatDuration(80 * 3600)).toBe('3.3天')
    expect(formatDuration(0)).toBe('0分钟')
  })
})

describe('dates in Asia/Shanghai', () => {
  it('converts UTC instants to Shanghai wall time', () => {
    expect(formatDateTime('2025-03-03T00:40:00Z')).toBe('2025-03-03 08:40')
    expect(formatDateTime('2025-03-03T00:40:09+00:00', true)).toBe('2025-03-03 08:40:09')
    expect(formatDateTime('2025-03-03T08:40:00+08:00')).toBe('2025-03-03 08:40')
  })
  it('treats timestamps without an offset as UTC', () => {
    expect(formatDateTime('2025-03-03T16:30:00')).toBe('2025-03-04 00:30')
  })
  it('crosses the date line at local midnight', () => {
    expect(formatDate('2025-12-31T16:00:00Z')).toBe('2026-01-01')
    expect(formatDate('2025-12-31T15:59:59Z')).toBe('2025-12-31')
  })
  it('handles missing and invalid values', () => {
    expect(formatDateTime(null)).toBe(EMPTY)
    expect(formatDateTime('')).toBe(EMPTY)
    expect(formatDateTime('not a date')).toBe(EMPTY)
  })
  it('builds half-open local day ranges', () => {
    expect(dayStartIso('2025-03-01')).toBe('2025-03-01T00:00:00+08:00')
    expect(nextDayStartIso('2025-03-31')).toBe('2025-04-01T00:00:00+08:00')
    expect(nextDayStartIso('2024-02-28')).toBe('2024-02-29T00:00:00+08:00')
    expect(nextDayStartIso('2025-12-31')).toBe('2026-01-01T00:00:00+08:00')
  })
})
