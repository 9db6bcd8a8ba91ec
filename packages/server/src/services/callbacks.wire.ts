/** How callbacks and their deliveries leave on the wire: pure functions from rows to answers. */
import { urlWithoutCredentials } from '../outbound/url-credentials.ts';
import type { ListedDelivery } from '../store/callbacks.repository.ts';
import type { CallbackOverview } from './callbacks.service.ts';

/** A callback with its delivery counts; the secret only in the answer to its registration (shown once). */
export function presentCallback({ callback, deliveries }: CallbackOverview, withSecret: boolean) {
  return {
    callback_id: callback.callback_id, url: urlWithoutCredentials(callback.url), model_id: callback.model_id, created_at: callback.created_at,
    deliveries: { pending: deliveries.pending + deliveries.sending, delivered: deliveries.delivered, failed: deliveries.failed },
    ...(withSecret ? { secret: callback.secret } : {}),
  };
}

/** A delivery's state; one being sent right now is still `pending` to the tenant. */
export function presentDelivery(row: ListedDelivery) {
  const waiting = row.status === 'pending' || row.status === 'sending';
  return {
    delivery_id: row.delivery_id,
    event: row.notification.event,
    item_id: row.notification.item_id,
    model_id: row.notification.model_id,
    status: waiting ? 'pending' : row.status,
    attempts: row.attempts,
    last_status: row.last_status,
    last_error: row.last_error,
    next_attempt_at: waiting ? new Date(row.next_attempt_at).toISOString() : null,
    created_at: row.created_at,
    delivered_at: row.delivered_at,
  };
}
