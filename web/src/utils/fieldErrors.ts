/** Map problem-details `errors[]` (field paths like "levels.0.actions.1.color") onto form fields. */
import { ApiError } from '@/api/client'

export type FieldErrors = Record<string, string>

/** The server's per-field errors keyed by field path ("" for errors without a field). */
export function serverFieldErrors(e: unknown): FieldErrors {
  const out: FieldErrors = {}
  if (!(e instanceof ApiError)) return out
  for (const err of e.errors) {
    const key = (err.field ?? '').replace(/^body\./, '')
    out[key] = out[key] ? `${out[key]}; ${err.reason}` : err.reason
  }
  return out
}

/** The first error at `path` or below it (e.g. "levels.0" also shows "levels.0.after_minutes"). */
export function errorAt(errors: FieldErrors, path: string, exact = false): string {
  if (errors[path]) return errors[path]
  if (exact) return ''
  const prefix = path + '.'
  for (const [k, v] of Object.entries(errors)) if (k.startsWith(prefix)) return v
  return ''
}
