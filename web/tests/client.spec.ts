import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  ApiError,
  NetworkError,
  api,
  buildQuery,
  csrfToken,
  setCsrfToken,
  setUnauthorizedHandler,
} from '@/api/client'
import { authApi, ticketsApi } from '@/api/endpoints'

function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json', ...headers },
  })
}

function setCookie(name: string, value: string) {
  document.cookie = `${name}=${value}; path=/`
}
function clearCookie(name: string) {
  document.cookie = `${name}=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT`
}

let fetchMock: ReturnType<typeof vi.fn>

async function failure(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p
  } catch (e) {
    return e as ApiError
  }
  throw new Error('expected the call to fail')
}

beforeEach(() => {
  fetchMock = vi.fn(async () => jsonResponse(200, { ok: true }))
  vi.stubGlobal('fetch', fetchMock)
  setCsrfToken(null)
  clearCookie('sl_csrf')
  setUnauthorizedHandler(null)
})
afterEach(() => {
  vi.unstubAllGlobals()
})

function lastCall(): { url: string; init: RequestInit; headers: Record<string, string> } {
  const [url, init] = fetchMock.mock.calls.at(-1) as [string, RequestInit]
  return { url, init, headers: (init.headers ?? {}) as Record<string, string> }
}

describe('CSRF header', () => {
  it('is sent on every write with the value of the sl_csrf cookie', async () => {
    setCookie('sl_csrf', 'tok%2Babc')
    for (const call of [
      () => api.post('/x', { a: 1 }),
      () => api.patch('/x', { a: 1 }),
      () => api.put('/x', { a: 1 }),
      () => api.delete('/x'),
    ]) {
      await call()
      expect(lastCall().headers['X-CSRF-Token']).toBe('tok+abc')
    }
  })

  it('is not sent on reads', async () => {
    setCookie('sl_csrf', 'tok')
    await api.get('/tickets')
    expect(lastCall().headers['X-CSRF-Token']).toBeUndefined()
    expect(lastCall().init.method).toBe('GET')
  })

  it('falls back to the token from the login response', async () => {
    fetchMock.mockResolvedValueOnce(
      jsonResponse(200, { user: { id: 1, username: 'agent1' }, csrf_token: 'from-login' }),
    )
    await authApi.login('agent1', 'pw')
    expect(csrfToken()).toBe('from-login')
    await ticketsApi.comment(5, { body: 'hi', public: true })
    const { url, init, headers } = lastCall()
    expect(url).toBe('/api/v1/tickets/5/comments')
    expect(headers['X-CSRF-Token']).toBe('from-login')
    expect(headers['Content-Type']).toBe('application/json')
    expect(JSON.parse(init.body as string)).toEqual({ body: 'hi', public: true })
    expect(init.credentials).toBe('same-origin')
  })

  it('prefers the cookie over the remembered token', async () => {
    setCsrfToken('old')
    setCookie('sl_csrf', 'new')
    await api.post('/x')
    expect(lastCall().headers['X-CSRF-Token']).toBe('new')
  })
})

describe('problem details', () => {
  it('are surfaced as ApiError with status, code, detail and field errors', async () => {
    fetchMock.mockResolvedValueOnce(
      jsonResponse(409, {
        type: 'https://servicelens.dev/problems/ticket.version_conflict',
        title: 'Conflict',
        status: 409,
        detail: 'ticket 7 was changed by someone else',
        code: 'ticket.version_conflict',
        errors: [{ field: 'version', reason: 'stale' }],
      }),
    )
    const err = await failure(ticketsApi.transition(7, { to_status: 'in_progress', version: 1 }))
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(409)
    expect(err.code).toBe('ticket.version_conflict')
    expect(err.detail).toBe('ticket 7 was changed by someone else')
    expect(err.message).toBe('ticket 7 was changed by someone else')
    expect(err.errors).toEqual([{ field: 'version', reason: 'stale' }])
    expect(err.isConflict).toBe(true)
  })

  it('carry Retry-After on 429', async () => {
    fetchMock.mockResolvedValueOnce(
      jsonResponse(429, { title: 'Too Many Requests', status: 429, detail: 'Too many login attempts', code: 'auth.rate_limited' }, { 'Retry-After': '30' }),
    )
    const err = await failure(authApi.login('x', 'y'))
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(429)
    expect(err.detail).toBe('Too many login attempts')
    expect(err.retryAfter).toBe(30)
  })

  it('fall back to the title or status when there is no detail or no JSON body', async () => {
    fetchMock.mockResolvedValueOnce(jsonResponse(403, { title: 'Forbidden', status: 403 }))
    const a = await failure(api.get('/x'))
    expect(a.detail).toBe('Forbidden')
    fetchMock.mockResolvedValueOnce(new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }))
    const b = await failure(api.get('/x'))
    expect(b).toBeInstanceOf(ApiError)
    expect(b.status).toBe(502)
    expect(b.detail).toBe('Bad Gateway')
  })

  it('accept FastAPI validation errors', async () => {
    fetchMock.mockResolvedValueOnce(
      jsonResponse(422, { detail: [{ loc: ['body', 'to_status'], msg: 'Input should be a valid status' }] }),
    )
    const err = await failure(api.post('/x', {}))
    expect(err.status).toBe(422)
    expect(err.errors).toEqual([{ field: 'to_status', reason: 'Input should be a valid status' }])
  })

  it('network failures become NetworkError', async () => {
    fetchMock.mockRejectedValueOnce(new TypeError('Failed to fetch'))
    await expect(api.get('/x')).rejects.toBeInstanceOf(NetworkError)
  })
})

describe('401 handling', () => {
  it('calls the unauthorized handler, except for login and /auth/me', async () => {
    const handler = vi.fn()
    setUnauthorizedHandler(handler)
    fetchMock.mockImplementation(async () => jsonResponse(401, { title: 'Unauthorized', status: 401, detail: 'Not logged in' }))
    await expect(api.get('/tickets')).rejects.toMatchObject({ status: 401 })
    expect(handler).toHaveBeenCalledWith('/tickets')
    handler.mockClear()
    await expect(authApi.login('a', 'b')).rejects.toMatchObject({ status: 401, detail: 'Not logged in' })
    await expect(authApi.me()).rejects.toMatchObject({ status: 401 })
    expect(handler).not.toHaveBeenCalled()
  })
})

describe('query strings', () => {
  it('repeat multi-valued filters and drop empty values', () => {
    expect(buildQuery({ status: ['new', 'assigned'], q: '', page: 1, x: undefined, y: null, team_id: [] })).toBe(
      '?status=new&status=assigned&page=1',
    )
    expect(buildQuery({ q: '漏水 热水器' })).toBe('?q=%E6%BC%8F%E6%B0%B4+%E7%83%AD%E6%B0%B4%E5%99%A8')
    expect(buildQuery({})).toBe('')
  })

  it('are appended to ticket list calls', async () => {
    await ticketsApi.list({ status: ['new', 'assigned'], sort: '-created_at', page: 2, page_size: 20 })
    expect(lastCall().url).toBe('/api/v1/tickets?status=new&status=assigned&sort=-created_at&page=2&page_size=20')
  })

  it('204 responses resolve to undefined', async () => {
    fetchMock.mockResolvedValueOnce(new Response(null, { status: 204 }))
    await expect(authApi.logout()).resolves.toBeUndefined()
  })
})
