/**
 * Thin fetch wrapper for /api/v1: cookie auth, CSRF header on writes,
 * RFC 9457 problem details surfaced as ApiError.
 */

export const API_BASE = '/api/v1'
export const CSRF_COOKIE = 'sl_csrf'
export const CSRF_HEADER = 'X-CSRF-Token'

export interface FieldError {
  field: string | null
  reason: string
}

/** An error response from the API, carrying the problem-details fields. */
export class ApiError extends Error {
  readonly status: number
  readonly code: string | null
  readonly title: string
  readonly detail: string
  readonly errors: FieldError[]
  readonly retryAfter: number | null

  constructor(init: {
    status: number
    code?: string | null
    title?: string
    detail?: string | null
    errors?: FieldError[]
    retryAfter?: number | null
  }) {
    const detail = init.detail || init.title || `HTTP ${init.status}`
    super(detail)
    this.name = 'ApiError'
    this.status = init.status
    this.code = init.code ?? null
    this.title = init.title ?? ''
    this.detail = detail
    this.errors = init.errors ?? []
    this.retryAfter = init.retryAfter ?? null
  }

  get isConflict(): boolean {
    return this.status === 409
  }
}

/** True for network failures (server down, offline), as opposed to HTTP errors. */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause))
    this.name = 'NetworkError'
  }
}

export type QueryValue = string | number | boolean | null | undefined | (string | number)[]
export type Query = Record<string, QueryValue>

/** Build a query string; arrays become repeated params, empty values are dropped. */
export function buildQuery(query?: Query): string {
  if (!query) return ''
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue
    if (Array.isArray(value)) {
      for (const v of value) params.append(key, String(v))
    } else {
      params.append(key, String(value))
    }
  }
  const s = params.toString()
  return s ? `?${s}` : ''
}

export function readCookie(name: string): string | null {
  if (typeof document === 'undefined') return null
  for (const part of document.cookie.split(';')) {
    const [k, ...rest] = part.trim().split('=')
    if (k === name) return decodeURIComponent(rest.join('='))
  }
  return null
}

let csrfFallback: string | null = null
/** Remember the token from the login response in case the cookie is not readable yet. */
export function setCsrfToken(token: string | null): void {
  csrfFallback = token
}
export function csrfToken(): string | null {
  return readCookie(CSRF_COOKIE) ?? csrfFallback
}

type UnauthorizedHandler = (path: string) => void
let onUnauthorized: UnauthorizedHandler | null = null
/** Called on a 401 from any endpoint except the login itself (used to redirect to the login page). */
export function setUnauthorizedHandler(handler: UnauthorizedHandler | null): void {
  onUnauthorized = handler
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

export interface RequestOptions {
  query?: Query
  body?: unknown
  signal?: AbortSignal
  /** Do not call the unauthorized handler on 401 (login, initial /auth/me probe). */
  skipAuthRedirect?: boolean
}

async function toApiError(res: Response): Promise<ApiError> {
  let body: Record<string, unknown> = {}
  try {
    const text = await res.text()
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {}
  } catch {
    body = {}
  }
  // FastAPI's default error shape is {detail: string | [...]}: accept it too.
  let detail = typeof body.detail === 'string' ? body.detail : null
  let errors = Array.isArray(body.errors) ? (body.errors as FieldError[]) : []
  if (Array.isArray(body.detail)) {
    errors = (body.detail as { loc?: unknown[]; msg?: string }[]).map((e) => ({
      field: (e.loc ?? []).slice(1).join('.'),
      reason: e.msg ?? '',
    }))
    detail = null
  }
  // Seconds to wait: the Retry-After header, or `retry_after` in the problem body (login rate limit).
  const retryAfterHeader = res.headers.get('Retry-After')
  const retryAfter =
    retryAfterHeader && /^\d+$/.test(retryAfterHeader)
      ? Number(retryAfterHeader)
      : typeof body.retry_after === 'number'
        ? Math.ceil(body.retry_after)
        : null
  return new ApiError({
    status: res.status,
    code: typeof body.code === 'string' ? body.code : null,
    title: typeof body.title === 'string' ? body.title : res.statusText,
    detail,
    errors,
    retryAfter,
  })
}

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const upper = method.toUpperCase()
  const headers: Record<string, string> = { Accept: 'application/json' }
  let body: BodyInit | undefined
  if (opts.body instanceof FormData) {
    // Multipart upload: the browser sets the Content-Type with its boundary.
    body = opts.body
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(opts.body)
  }
  if (WRITE_METHODS.has(upper)) {
    const token = csrfToken()
    if (token) headers[CSRF_HEADER] = token
  }
  let res: Response
  try {
    res = await fetch(API_BASE + path + buildQuery(opts.query), {
      method: upper,
      headers,
      body,
      credentials: 'same-origin',
      signal: opts.signal,
    })
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e
    throw new NetworkError(e)
  }
  if (!res.ok) {
    const err = await toApiError(res)
    if (res.status === 401 && !opts.skipAuthRedirect && onUnauthorized) onUnauthorized(path)
    throw err
  }
  if (res.status === 204) return undefined as T
  const text = await res.text()
  return (text ? JSON.parse(text) : undefined) as T
}

export const api = {
  get: <T>(path: string, opts?: RequestOptions) => request<T>('GET', path, opts),
  post: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('POST', path, { ...opts, body }),
  patch: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('PATCH', path, { ...opts, body }),
  put: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('PUT', path, { ...opts, body }),
  delete: <T>(path: string, opts?: RequestOptions) => request<T>('DELETE', path, opts),
  /** POST one file as multipart/form-data (field `file`), with the CSRF header like any write. */
  upload: <T>(path: string, file: File | Blob, filename?: string, opts?: RequestOptions) => {
    const form = new FormData()
    if (filename !== undefined) form.append('file', file, filename)
    else form.append('file', file)
    return request<T>('POST', path, { ...opts, body: form })
  },
}
