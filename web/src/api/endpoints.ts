/** Typed calls for the endpoints the console uses. */
import { api, setCsrfToken, type Query } from './client'
import type {
  CommentCreate,
  CustomerDetail,
  CustomerSummary,
  CustomerTimelineItem,
  LoginResponse,
  NamedRef,
  Page,
  TicketDetail,
  TicketSummary,
  TicketUpdate,
  TransitionRequest,
  User,
} from './types'

export const authApi = {
  async login(username: string, password: string): Promise<LoginResponse> {
    const res = await api.post<LoginResponse>('/auth/login', { username, password }, { skipAuthRedirect: true })
    setCsrfToken(res.csrf_token)
    return res
  },
  async logout(): Promise<void> {
    try {
      await api.post<void>('/auth/logout', undefined, { skipAuthRedirect: true })
    } finally {
      setCsrfToken(null)
    }
  },
  me: () => api.get<User>('/auth/me', { skipAuthRedirect: true }),
}

export interface TicketListQuery extends Query {
  status?: string[]
  type?: string[]
  priority?: string[]
  team_id?: number[]
  assignee_id?: number[]
  region_id?: number[]
  customer_id?: number
  q?: string
  created_from?: string
  created_to?: string
  sort?: string
  page?: number
  page_size?: number
}

export const ticketsApi = {
  list: (query: TicketListQuery, signal?: AbortSignal) =>
    api.get<Page<TicketSummary>>('/tickets', { query, signal }),
  get: (id: number) => api.get<TicketDetail>(`/tickets/${id}`),
  update: (id: number, body: TicketUpdate) => api.patch<TicketDetail>(`/tickets/${id}`, body),
  transition: (id: number, body: TransitionRequest) => api.post<TicketDetail>(`/tickets/${id}/transition`, body),
  comment: (id: number, body: CommentCreate) => api.post<TicketDetail>(`/tickets/${id}/comments`, body),
}

export const orgApi = {
  users: (query: Query) => api.get<Page<User>>('/users', { query }),
  teams: () => api.get<Page<NamedRef>>('/teams', { query: { page_size: 200 } }),
  regions: () => api.get<Page<NamedRef>>('/regions', { query: { page_size: 200 } }),
}

export interface CustomerListQuery extends Query {
  q?: string
  tier?: string
  region_id?: number
  page?: number
  page_size?: number
}

export const customersApi = {
  list: (query: CustomerListQuery, signal?: AbortSignal) =>
    api.get<Page<CustomerSummary>>('/customers', { query, signal }),
  get: (id: number) => api.get<CustomerDetail>(`/customers/${id}`),
  timeline: (id: number, page: number, pageSize = 20) =>
    api.get<Page<CustomerTimelineItem>>(`/customers/${id}/timeline`, { query: { page, page_size: pageSize } }),
}
