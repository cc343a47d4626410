/** Labels and button styles for ticket status transitions. */
export const RESOLUTION_CODES = [
  'fixed',
  'replaced_part',
  'advice_given',
  'refunded',
  'exchanged',
  'no_fault_found',
  'duplicate',
  'customer_withdrew',
  'other',
] as const

const OPEN_STATUSES = new Set(['new', 'assigned', 'in_progress', 'pending_customer', 'on_hold'])

/** i18n key of the button moving a ticket from `from` to `to` ("Reopen" when leaving resolved for an open status). */
export function transitionLabelKey(from: string, to: string): string {
  if (from === 'resolved' && OPEN_STATUSES.has(to)) return 'ticket.transitions.reopen'
  const known = ['new', 'assigned', 'in_progress', 'pending_customer', 'on_hold', 'resolved', 'closed']
  return known.includes(to) ? `ticket.transitions.${to}` : `ticket.statuses.${to}`
}

export function transitionButtonType(to: string): 'primary' | 'success' | 'warning' | 'info' | 'default' {
  switch (to) {
    case 'in_progress':
      return 'primary'
    case 'resolved':
      return 'success'
    case 'pending_customer':
    case 'on_hold':
      return 'warning'
    case 'closed':
      return 'info'
    default:
      return 'default'
  }
}
