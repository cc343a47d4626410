/** Typed calls for the endpoints the console uses. */
import { api, setCsrfToken, type Query } from './client'
import type {
  AtRiskItem,
  CalendarComputeIn,
  CalendarComputeOut,
  CalendarCreate,
  CalendarOut,
  CalendarOverride,
  CalendarPatch,
  CalendarVersion,
  ChannelCreate,
  ChannelOut,
  ChannelPatch,
  ChannelTestResult,
  Delivery,
  HolidayImportResult,
  Job,
  JobStats,
  NodeCheck,
  Notification,
  PolicyIn,
  PolicyOut,
  PreviewIn,
  PreviewResult,
  Product,
  RuleIn,
  RuleOut,
  TicketSla,
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
  sla: (id: number) => api.get<TicketSla>(`/tickets/${id}/sla`),
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

export const productsApi = {
  list: () => api.get<Page<Product>>('/products', { query: { page_size: 200 } }),
}

export interface AtRiskQuery extends Query {
  within_minutes?: number
  team_id?: number
}

export interface NodeCheckQuery extends Query {
  start?: string
  end?: string
  team_id?: number
}

export const slaApi = {
  calendars: () => api.get<CalendarOut[]>('/sla/calendars'),
  calendar: (id: number) => api.get<CalendarOut>(`/sla/calendars/${id}`),
  createCalendar: (body: CalendarCreate) => api.post<CalendarOut>('/sla/calendars', body),
  updateCalendar: (id: number, body: CalendarPatch) => api.patch<CalendarOut>(`/sla/calendars/${id}`, body),
  deleteCalendar: (id: number) => api.delete<void>(`/sla/calendars/${id}`),
  addVersion: (id: number, body: CalendarVersion) => api.post<CalendarOut>(`/sla/calendars/${id}/versions`, body),
  setOverride: (id: number, body: CalendarOverride) => api.put<CalendarOut>(`/sla/calendars/${id}/overrides`, body),
  importHolidays: (id: number, file: File) =>
    api.upload<HolidayImportResult>(`/sla/calendars/${id}/holidays`, file, file.name),
  compute: (id: number, body: CalendarComputeIn) => api.post<CalendarComputeOut>(`/sla/calendars/${id}/compute`, body),

  policies: () => api.get<PolicyOut[]>('/sla/policies'),
  createPolicy: (body: PolicyIn) => api.post<PolicyOut>('/sla/policies', body),
  updatePolicy: (id: number, body: PolicyIn) => api.put<PolicyOut>(`/sla/policies/${id}`, body),
  deletePolicy: (id: number) => api.delete<void>(`/sla/policies/${id}`),
  preview: (body: PreviewIn) => api.post<PreviewResult>('/sla/preview', body),

  rules: () => api.get<RuleOut[]>('/sla/escalation-rules'),
  createRule: (body: RuleIn) => api.post<RuleOut>('/sla/escalation-rules', body),
  updateRule: (id: number, body: RuleIn) => api.put<RuleOut>(`/sla/escalation-rules/${id}`, body),
  deleteRule: (id: number) => api.delete<void>(`/sla/escalation-rules/${id}`),

  atRisk: (query: AtRiskQuery, signal?: AbortSignal) => api.get<AtRiskItem[]>('/sla/at-risk', { query, signal }),
  nodeChecks: (query: NodeCheckQuery, signal?: AbortSignal) =>
    api.get<NodeCheck[]>('/sla/node-checks', { query, signal }),
}

/** Where the live notification stream is (EventSource, cookie auth). */
export const NOTIFICATION_STREAM_URL = '/api/v1/notifications/stream'

export const notificationsApi = {
  list: (query: { unread?: boolean; page?: number; page_size?: number } = {}) =>
    api.get<Page<Notification>>('/notifications', { query }),
  unreadCount: () => api.get<{ count: number }>('/notifications/unread-count'),
  markRead: (id: number) => api.post<Notification>(`/notifications/${id}/read`),
  markAllRead: () => api.post<{ updated: number }>('/notifications/read-all'),
}

export const adminApi = {
  channels: () => api.get<Page<ChannelOut>>('/admin/channels', { query: { page_size: 100 } }),
  createChannel: (body: ChannelCreate) => api.post<ChannelOut>('/admin/channels', body),
  updateChannel: (id: number, body: ChannelPatch) => api.patch<ChannelOut>(`/admin/channels/${id}`, body),
  deleteChannel: (id: number) => api.delete<void>(`/admin/channels/${id}`),
  testChannel: (id: number, to?: string) =>
    api.post<ChannelTestResult>(`/admin/channels/${id}/test`, to ? { to } : undefined),
  deliveries: (query: { status?: string; page?: number; page_size?: number }) =>
    api.get<Page<Delivery>>('/admin/deliveries', { query }),
  retryDelivery: (id: number) => api.post<Delivery>(`/admin/deliveries/${id}/retry`),
  jobs: (query: { status?: string; kind?: string; page?: number; page_size?: number }) =>
    api.get<Page<Job>>('/admin/jobs', { query }),
  jobStats: () => api.get<JobStats>('/admin/jobs/stats'),
  retryJob: (id: number) => api.post<Job>(`/admin/jobs/${id}/retry`),
  retryDeadJobs: (kind?: string) => api.post<{ retried: number }>('/admin/jobs/retry-dead', undefined, { query: { kind } }),
}
