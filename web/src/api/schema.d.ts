/**
 * HAND-WRITTEN placeholder following the agreed API contract, in the shape
 * openapi-typescript produces. Replace it with `npm run gen:api` once the
 * backend writes servicelens/static/openapi.json.
 */

export interface paths {
  '/api/v1/auth/login': {
    post: {
      requestBody: { content: { 'application/json': components['schemas']['LoginRequest'] } }
      responses: {
        200: { content: { 'application/json': components['schemas']['LoginResponse'] } }
        401: { content: { 'application/problem+json': components['schemas']['Problem'] } }
        429: { content: { 'application/problem+json': components['schemas']['Problem'] } }
      }
    }
  }
  '/api/v1/auth/logout': {
    post: { responses: { 204: { content: never } } }
  }
  '/api/v1/auth/me': {
    get: { responses: { 200: { content: { 'application/json': components['schemas']['UserOut'] } } } }
  }
  '/api/v1/tickets': {
    get: {
      parameters: {
        query?: {
          status?: components['schemas']['TicketStatus'][]
          type?: components['schemas']['TicketType'][]
          priority?: components['schemas']['Priority'][]
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
      }
      responses: { 200: { content: { 'application/json': components['schemas']['Page_TicketSummary_'] } } }
    }
  }
  '/api/v1/tickets/{ticket_id}': {
    get: {
      parameters: { path: { ticket_id: number } }
      responses: { 200: { content: { 'application/json': components['schemas']['TicketDetail'] } } }
    }
    patch: {
      parameters: { path: { ticket_id: number } }
      requestBody: { content: { 'application/json': components['schemas']['TicketUpdate'] } }
      responses: { 200: { content: { 'application/json': components['schemas']['TicketDetail'] } } }
    }
  }
  '/api/v1/tickets/{ticket_id}/transition': {
    post: {
      parameters: { path: { ticket_id: number } }
      requestBody: { content: { 'application/json': components['schemas']['TransitionRequest'] } }
      responses: { 200: { content: { 'application/json': components['schemas']['TicketDetail'] } } }
    }
  }
  '/api/v1/tickets/{ticket_id}/comments': {
    post: {
      parameters: { path: { ticket_id: number } }
      requestBody: { content: { 'application/json': components['schemas']['CommentCreate'] } }
      responses: { 200: { content: { 'application/json': components['schemas']['TicketDetail'] } } }
    }
  }
  '/api/v1/users': {
    get: {
      parameters: { query?: { role?: string; team_id?: number; q?: string; page?: number; page_size?: number } }
      responses: { 200: { content: { 'application/json': components['schemas']['Page_UserOut_'] } } }
    }
  }
  '/api/v1/teams': {
    get: { responses: { 200: { content: { 'application/json': components['schemas']['Page_NamedRef_'] } } } }
  }
  '/api/v1/regions': {
    get: { responses: { 200: { content: { 'application/json': components['schemas']['Page_NamedRef_'] } } } }
  }
  '/api/v1/customers': {
    get: {
      parameters: {
        query?: { q?: string; tier?: string; region_id?: number; page?: number; page_size?: number }
      }
      responses: { 200: { content: { 'application/json': components['schemas']['Page_CustomerSummary_'] } } }
    }
  }
  '/api/v1/customers/{customer_id}': {
    get: {
      parameters: { path: { customer_id: number } }
      responses: { 200: { content: { 'application/json': components['schemas']['CustomerDetail'] } } }
    }
  }
  '/api/v1/customers/{customer_id}/timeline': {
    get: {
      parameters: { path: { customer_id: number }; query?: { page?: number; page_size?: number } }
      responses: { 200: { content: { 'application/json': components['schemas']['Page_CustomerTimelineItem_'] } } }
    }
  }
}

export interface components {
  schemas: {
    Problem: {
      type: string
      title: string
      status: number
      detail?: string | null
      code?: string | null
      errors?: { field: string; reason: string }[]
    }
    Role: 'admin' | 'supervisor' | 'agent' | 'engineer' | 'analyst' | 'sales'
    LoginRequest: { username: string; password: string }
    LoginResponse: { user: components['schemas']['UserOut']; csrf_token: string }
    UserOut: {
      id: number
      username: string
      display_name: string
      role: components['schemas']['Role']
      team_id: number | null
      region_id: number | null
      locale: string | null
    }
    TicketType: 'inquiry' | 'repair' | 'complaint' | 'return' | 'suggestion'
    Channel: 'phone' | 'web' | 'email' | 'wechat' | 'sms' | 'app' | 'api' | 'social'
    Priority: 'low' | 'normal' | 'high' | 'urgent'
    TicketStatus: 'new' | 'assigned' | 'in_progress' | 'pending_customer' | 'on_hold' | 'resolved' | 'closed'
    StatusCategory: 'new' | 'open' | 'pending' | 'on_hold' | 'solved' | 'closed'
    FlagColor: 'none' | 'amber' | 'red'
    Ref: { id: number; name: string }
    NamedRef: { id: number; name: string; name_en?: string | null }
    UserRef: { id: number; display_name: string }
    CustomerRef: { id: number; name: string; tier: string }
    TicketSummary: {
      id: number
      subject: string
      type: components['schemas']['TicketType']
      channel: components['schemas']['Channel']
      priority: components['schemas']['Priority']
      status: components['schemas']['TicketStatus']
      status_category: components['schemas']['StatusCategory']
      flag_color: components['schemas']['FlagColor']
      customer: components['schemas']['CustomerRef'] | null
      team: components['schemas']['Ref'] | null
      assignee: components['schemas']['UserRef'] | null
      region: components['schemas']['Ref'] | null
      product: components['schemas']['Ref'] | null
      created_at: string
      updated_at: string
      version: number
    }
    TimelineItem: {
      kind: 'event' | 'comment'
      id: number
      at: string
      actor: components['schemas']['UserRef'] | null
      event_kind?: string | null
      from_status?: string | null
      to_status?: string | null
      data?: { [key: string]: unknown } | null
      body?: string | null
      public?: boolean | null
      author_kind?: string | null
    }
    TicketDetail: components['schemas']['TicketSummary'] & {
      description: string
      category: string | null
      component: components['schemas']['Ref'] | null
      resolution_code: string | null
      first_response_at: string | null
      first_resolved_at: string | null
      resolved_at: string | null
      closed_at: string | null
      reopen_count: number
      merged_into_id: number | null
      followup_of_id: number | null
      allowed_transitions: components['schemas']['TicketStatus'][]
      timeline: components['schemas']['TimelineItem'][]
    }
    TransitionRequest: {
      to_status: components['schemas']['TicketStatus']
      version: number
      resolution_code?: string | null
      note?: string | null
    }
    TicketUpdate: {
      version: number
      priority?: components['schemas']['Priority'] | null
      assignee_id?: number | null
      team_id?: number | null
    }
    CommentCreate: { body: string; public: boolean }
    CustomerSummary: {
      id: number
      name: string
      tier: string
      city: string | null
      region: components['schemas']['Ref'] | null
      is_member: boolean
      phone_masked: string | null
      email_masked: string | null
    }
    ContactOut: {
      id: number
      name: string
      phone_masked: string | null
      email_masked: string | null
      is_primary: boolean
    }
    CustomerDetail: components['schemas']['CustomerSummary'] & {
      contacts: components['schemas']['ContactOut'][]
    }
    CustomerTimelineItem: {
      kind: 'ticket' | 'comment' | 'event'
      at: string
      ticket_id: number
      ticket_subject: string
      [key: string]: unknown
    }
    Page_TicketSummary_: { items: components['schemas']['TicketSummary'][]; total: number; page: number; page_size: number }
    Page_UserOut_: { items: components['schemas']['UserOut'][]; total: number; page: number; page_size: number }
    Page_NamedRef_: { items: components['schemas']['NamedRef'][]; total: number; page: number; page_size: number }
    Page_CustomerSummary_: {
      items: components['schemas']['CustomerSummary'][]
      total: number
      page: number
      page_size: number
    }
    Page_CustomerTimelineItem_: {
      items: components['schemas']['CustomerTimelineItem'][]
      total: number
      page: number
      page_size: number
    }
  }
}
