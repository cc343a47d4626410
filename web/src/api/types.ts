/**
 * Friendly names for the API types. The schemas come from `schema.d.ts`
 * (generated from the backend's OpenAPI by `npm run gen:api`); only this file
 * needs to change when the backend renames a schema.
 */
import type { components } from './schema'

type S = components['schemas']

export type Problem = S['Problem']
export type Role = S['Role']
export type User = S['UserOut']
export type LoginResponse = S['LoginResponse']
export type TicketType = S['TicketType']
export type Channel = S['Channel']
export type Priority = S['Priority']
export type TicketStatus = S['TicketStatus']
export type StatusCategory = S['StatusCategory']
export type FlagColor = S['FlagColor']
export type Ref = S['Ref']
export type NamedRef = S['NamedRef']
export type UserRef = S['UserRef']
export type TicketSummary = S['TicketSummary']
export type TicketDetail = S['TicketDetail']
export type TimelineItem = S['TimelineItem']
export type TransitionRequest = S['TransitionRequest']
export type TicketUpdate = S['TicketUpdate']
export type CommentCreate = S['CommentCreate']
export type CustomerSummary = S['CustomerSummary']
export type CustomerDetail = S['CustomerDetail']
export type Contact = S['ContactOut']
export type CustomerTimelineItem = S['CustomerTimelineItem']

export interface Page<T> {
  items: T[]
  total: number
  page: number
  page_size: number
}
