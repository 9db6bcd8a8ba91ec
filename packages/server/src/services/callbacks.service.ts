import { createHmac, randomBytes } from 'node:crypto';
import { ApiError, message } from '../http/errors.ts';
import { nowIso, type Db } from '../store/database.ts';

export interface CallbackRow {
  callback_id: number;
  client_id: string;
  url: string;
  secret: string;
  /** Only this model's predictions; null: every model of the client. */
  model_id: number | null;
  created_at: string;
}

interface DeliveryRow {
  delivery_id: number;
  callback_id: number;
  body: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  next_attempt_at: number;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

/** The wait before each retry (ms): after the last one fails, the delivery is given up ("failed"). */
export const RETRY_DELAYS_MS = [1000, 5000, 30_000, 120_000, 600_000];
const DELIVERY_TIMEOUT_MS = 10_000;
/** Deliveries sent at once, so a burst of predictions does not open hundreds of connections. */
const CONCURRENT_DELIVERIES = 8;

/**
 * Prediction callbacks (beyond the original): each finished prediction is POSTed as JSON to the client's
 * registered URLs (all of them, or those registered for that model), signed with HMAC-SHA256 of the body
 * under the callback's secret (`X-Kensa-Signature: sha256=<hex>`). Every notification is first written to an
 * outbox table (`callback_deliveries`) and sent from there, retried with growing waits until a 2xx: a
 * notification waiting when the server stops is sent after the next start. A delivered row is never sent
 * again; one the process stopped while sending may be sent twice (at least once), so each carries
 * `X-Kensa-Delivery` for receivers to recognise it.
 */
export class CallbacksService {
  private timer: NodeJS.Timeout | null = null;
  private timerDueAt = Infinity;
  private readonly inFlight = new Set<number>();
  private closed = false;
  private started = false;

  constructor(private readonly db: Db, private readonly retryDelaysMs: number[] = RETRY_DELAYS_MS) {}

  /** Starts sending the outbox (after a restart: what was waiting). */
  start(): void {
    this.started = true;
    this.pump();
  }

  register(clientId: string, url: string, modelId: number | null = null) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ApiError(400, 'invalidRequest', message('callbackUrlInvalid', { url }));
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ApiError(400, 'invalidRequest', message('callbackUrlInvalid', { url }));
    if (modelId !== null && !this.db.prepare('SELECT 1 FROM models WHERE client_id = ? AND model_id = ?').get(clientId, modelId)) {
      throw new ApiError(404, 'modelsNotFound');
    }
    const secret = randomBytes(24).toString('base64url');
    const info = this.db.prepare('INSERT INTO callbacks (client_id, url, secret, model_id, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(clientId, parsed.href, secret, modelId, nowIso());
    return this.present(this.db.prepare('SELECT * FROM callbacks WHERE callback_id = ?').get(info.lastInsertRowid) as CallbackRow, true);
  }

  list(clientId: string) {
    return (this.db.prepare('SELECT * FROM callbacks WHERE client_id = ? ORDER BY callback_id').all(clientId) as CallbackRow[]).map((r) => this.present(r, false));
  }

  remove(clientId: string, callbackId: string): void {
    const result = /^\d+$/.test(callbackId) ? this.db.prepare('DELETE FROM callbacks WHERE client_id = ? AND callback_id = ?').run(clientId, Number(callbackId)) : { changes: 0 };
    if (result.changes === 0) throw new ApiError(404, 'callbackNotFound');
  }

  /** The newest deliveries of one callback with their state (GET /callbacks/{id}/deliveries). */
  deliveries(clientId: string, callbackId: string, limit = 100) {
    const callback = /^\d+$/.test(callbackId)
      ? this.db.prepare('SELECT * FROM callbacks WHERE client_id = ? AND callback_id = ?').get(clientId, Number(callbackId)) as CallbackRow | undefined
      : undefined;
    if (!callback) throw new ApiError(404, 'callbackNotFound');
    const rows = this.db.prepare('SELECT * FROM callback_deliveries WHERE callback_id = ? ORDER BY delivery_id DESC LIMIT ?').all(callback.callback_id, limit) as DeliveryRow[];
    return rows.map((row) => {
      const event = JSON.parse(row.body) as { event?: string; item_id?: string; model_id?: number };
      return {
        delivery_id: row.delivery_id,
        event: event.event ?? null,
        item_id: event.item_id ?? null,
        model_id: event.model_id ?? null,
        status: row.status,
        attempts: row.attempts,
        last_status: row.last_status,
        last_error: row.last_error,
        next_attempt_at: row.status === 'pending' ? new Date(row.next_attempt_at).toISOString() : null,
        created_at: row.created_at,
        delivered_at: row.delivered_at,
      };
    });
  }

  /** The secret is shown once, when the callback is registered. */
  private present(row: CallbackRow, withSecret: boolean) {
    const counts = this.db.prepare('SELECT status, COUNT(*) AS n FROM callback_deliveries WHERE callback_id = ? GROUP BY status')
      .all(row.callback_id) as { status: string; n: number }[];
    const count = (status: string) => counts.find((c) => c.status === status)?.n ?? 0;
    return {
      callback_id: row.callback_id, url: row.url, model_id: row.model_id, created_at: row.created_at,
      deliveries: { pending: count('pending'), delivered: count('delivered'), failed: count('failed') },
      ...(withSecret ? { secret: row.secret } : {}),
    };
  }

  /** Puts a finished prediction in the outbox of every matching callback; sending happens in the background. */
  notify(clientId: string, modelId: number, payload: unknown): void {
    const rows = this.db.prepare('SELECT * FROM callbacks WHERE client_id = ? AND (model_id IS NULL OR model_id = ?)').all(clientId, modelId) as CallbackRow[];
    if (rows.length === 0) return;
    const body = JSON.stringify(payload);
    const insert = this.db.prepare('INSERT INTO callback_deliveries (callback_id, body, next_attempt_at, created_at) VALUES (?, ?, ?, ?)');
    const now = Date.now();
    this.db.transaction(() => { for (const row of rows) insert.run(row.callback_id, body, now, nowIso()); })();
    this.pump();
  }

  /** Sends the due deliveries (a few at a time) and sleeps until the next one is due. */
  private pump(): void {
    if (this.closed || !this.started) return;
    const now = Date.now();
    const free = CONCURRENT_DELIVERIES - this.inFlight.size;
    if (free > 0) {
      const due = this.db.prepare(`SELECT d.*, c.url, c.secret FROM callback_deliveries d JOIN callbacks c ON c.callback_id = d.callback_id
        WHERE d.status = 'pending' AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at, d.delivery_id LIMIT ?`)
        .all(now, free + this.inFlight.size) as (DeliveryRow & { url: string; secret: string })[];
      for (const row of due) {
        if (this.inFlight.has(row.delivery_id) || this.inFlight.size >= CONCURRENT_DELIVERIES) continue;
        this.inFlight.add(row.delivery_id);
        void this.send(row).finally(() => {
          this.inFlight.delete(row.delivery_id);
          this.pump();
        });
      }
    }
    const next = this.db.prepare(`SELECT MIN(next_attempt_at) AS at FROM callback_deliveries WHERE status = 'pending' AND next_attempt_at > ?`)
      .get(now) as { at: number | null };
    if (next.at !== null && next.at < this.timerDueAt) {
      if (this.timer) clearTimeout(this.timer);
      this.timerDueAt = next.at;
      this.timer = setTimeout(() => {
        this.timer = null;
        this.timerDueAt = Infinity;
        this.pump();
      }, Math.max(0, next.at - now));
      this.timer.unref();
    }
  }

  private async send(row: DeliveryRow & { url: string; secret: string }): Promise<void> {
    const signature = createHmac('sha256', row.secret).update(row.body).digest('hex');
    const attempt = row.attempts + 1;
    let status: number | null = null;
    let error: string | null = null;
    try {
      const response = await fetch(row.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json', 'x-kensa-signature': `sha256=${signature}`,
          'x-kensa-delivery': String(row.delivery_id), 'x-kensa-attempt': String(attempt),
        },
        body: row.body,
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      });
      await response.arrayBuffer().catch(() => undefined);
      status = response.status;
      if (!response.ok) error = `HTTP ${response.status}`;
    } catch (e) {
      // Unreachable or too slow: retried like an error answer.
      error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
    if (this.closed) {
      // The database may be closing; a success not recorded is sent again after the next start.
      try { this.record(row.delivery_id, attempt, status, error); } catch { /* closed */ }
      return;
    }
    this.record(row.delivery_id, attempt, status, error);
  }

  private record(deliveryId: number, attempt: number, status: number | null, error: string | null): void {
    if (error === null) {
      this.db.prepare(`UPDATE callback_deliveries SET status = 'delivered', attempts = ?, last_status = ?, last_error = NULL, delivered_at = ?
        WHERE delivery_id = ?`).run(attempt, status, nowIso(), deliveryId);
      return;
    }
    const giveUp = attempt > this.retryDelaysMs.length;
    this.db.prepare(`UPDATE callback_deliveries SET status = ?, attempts = ?, last_status = ?, last_error = ?, next_attempt_at = ?
      WHERE delivery_id = ?`).run(giveUp ? 'failed' : 'pending', attempt, status, error.slice(0, 500),
      giveUp ? Date.now() : Date.now() + this.retryDelaysMs[attempt - 1], deliveryId);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
