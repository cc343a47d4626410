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
  total: number
  page: number
  page_size: number
}
