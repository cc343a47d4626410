/** Helpers to read typed values from a vue-router query object. */
import type { LocationQuery, LocationQueryRaw } from 'vue-router'

type RawValue = LocationQuery[string]

export function qList(v: RawValue | undefined): string[] {
  if (v === undefined || v === null) return []
  const arr = Array.isArray(v) ? v : [v]
  return arr.filter((x): x is string => typeof x === 'string' && x !== '')
}

export function qIds(v: RawValue | undefined): number[] {
  return qList(v)
    .map((x) => Number(x))
    .filter((n) => Number.isInteger(n) && n > 0)
}

export function qString(v: RawValue | undefined): string {
  const list = qList(v)
  return list.length ? list[0] : ''
}

export function qInt(v: RawValue | undefined, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(qString(v))
  if (!Number.isInteger(n) || n < min) return fallback
  return Math.min(n, max)
}

/** Drop empty values so the URL stays short. */
export function compactQuery(q: Record<string, unknown>): LocationQueryRaw {
  const out: LocationQueryRaw = {}
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null || v === '') continue
    if (Array.isArray(v)) {
      if (v.length) out[k] = v.map(String)
    } else out[k] = String(v)
  }
  return out
}
