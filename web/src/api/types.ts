/**
 * Friendly names for the API types. The schemas come from `schema.d.ts`
 * (generated from the backend's OpenAPI by `npm run gen:api`); only this file
 * needs to change when the backend renames a schema.
 */
import type { components } from './schema'

type S = components['schemas']

/** RFC 9457 problem details as the backend sends them (not part of the OpenAPI document). */
export interface Problem {
  type: string
  title: string
  status: number
  detail?: string | null
  code?: string | null
  errors?: { field: string | null; reason: string }[]
  [extra: string]: unknown
}

export type Role = S['Role']
export type User = S['UserOut']
export type LoginResponse = S['LoginOut']
export type TicketType = S['TicketType']
export type Channel = S['Channel']
export type Priority = S['Priority']
export type TicketStatus = S['TicketStatus']
export type FlagColor = S['FlagColor']
export type Ref = S['Ref']
export type Team = S['TeamOut']
export type Region = S['RegionOut']
/** A team or region: `name` in Chinese, `name_en` in English. */
export type NamedRef = { id: number; name: string; name_en?: string | null }
export type UserRef = S['UserRef']
export type TicketSummary = S['TicketSummary']
export type TicketDetail = S['TicketDetail']
export type TimelineItem = S['TimelineItem']
export type TransitionRequest = S['TransitionIn']
export type TicketUpdate = S['TicketPatch']
export type CommentCreate = S['CommentIn']
export type CustomerSummary = S['CustomerSummary']
export type CustomerDetail = S['CustomerDetail']
export type Contact = S['ContactOut']
export type CustomerTimelineItem = S['TimelineEntry']

export interface Page<T> {
  items: T[]
  /** Capped at 10,000: `total_exact` is false when more rows match. */
  total: number
  page: number
  page_size: number
  total_exact?: boolean
}

// --- SLA (servicelens/sla/schemas.py) -----------------------------------------
export type SlaBadge = S['SlaBadge']
export type TargetMetric = S['TargetMetric']
export type EscalationTrigger = S['EscalationTrigger']
export type CalendarOut = S['CalendarOut']
export type CalendarCreate = S['CalendarCreate']
export type CalendarPatch = S['CalendarPatch']
export type CalendarVersion = S['CalendarVersionIn']
export type CalendarOverride = S['CalendarOverrideIn']
export type HolidayImportResult = S['HolidayImportResult']
export type CalendarComputeIn = S['CalendarComputeIn']
export type CalendarComputeOut = S['CalendarComputeOut']
export type PolicyIn = S['PolicyIn']
export type PolicyOut = S['PolicyOut']
export type PolicyConditions = S['PolicyConditions']
export type TargetIn = S['TargetIn']
export type RuleIn = S['RuleIn']
export type RuleOut = S['RuleOut']
export type RuleConditions = S['RuleConditions']
export type LevelIn = S['LevelIn']
export type ActionIn = S['ActionIn']
export type PreviewIn = S['PreviewIn']
export type TargetOut = S['TargetOut']
export type NodeCheck = S['NodeCheckOut']
/** Weekly hours: weekday "0" (Monday) … "6" → [["09:00","12:00"], …]. */
export type WeeklyHours = Record<string, string[][]>

/** Policy reference in previews and ticket SLA (the OpenAPI says only `dict`). */
export interface PolicyRef {
  id: number
  name: string
}

/** One target of POST /sla/preview (servicelens/sla/service.py `preview`). */
export interface PreviewTarget {
  metric: TargetMetric
  minutes: number
  clock: 'business' | 'calendar'
  due_at: string | null
  warn_at?: string | null
}

export interface PreviewResult {
  policy: PolicyRef | null
  no_sla: boolean
  targets: PreviewTarget[]
  warnings: string[]
}

/** One ladder step of a ticket (servicelens/sla/service.py `ticket_sla`). */
export interface TicketEscalation {
  rule_id: number
  rule: string
  level: number
  due_at: string | null
  state: 'pending' | 'fired' | 'cancelled' | string
  fired_at: string | null
}

export interface TicketSla {
  ticket_id: number
  policy: PolicyRef | null
  targets: TargetOut[]
  escalations: TicketEscalation[]
  warnings: string[]
}

/** A row of GET /sla/at-risk (servicelens/sla/service.py `at_risk`). */
export interface AtRiskItem {
  ticket_id: number
  subject: string
  priority: Priority
  status: TicketStatus
  flag_color: FlagColor
  assignee_id: number | null
  team_id: number | null
  metric: TargetMetric
  state: 'active' | 'breached' | string
  due_at: string | null
  minutes_left: number | null
}

/** A day of the calendar compute preview. */
export interface ComputeDay {
  day: string
  kind: string
  hours: string[][]
  name: string
  covered: boolean
}

// --- notifications (servicelens/alerts/schemas.py) ------------------------------
export type Notification = S['NotificationOut']
export type ChannelOut = S['ChannelOut']
export type ChannelCreate = S['ChannelCreate']
export type ChannelPatch = S['ChannelPatch']
export type ChannelKind = ChannelCreate['kind']
export type ChannelTestResult = S['ChannelTestResult']
export type Delivery = S['DeliveryOut']

// --- jobs (servicelens/jobs_router.py) -----------------------------------------
export type Job = S['JobOut']
export type JobStatus = S['JobStatus']
export type JobStats = S['JobStats']
export type Product = S['ProductOut']
