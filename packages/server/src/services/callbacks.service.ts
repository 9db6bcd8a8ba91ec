import { createHmac, randomBytes } from 'node:crypto';
import { ApiError, message } from '../http/errors.ts';
import { nowIso, type Db } from '../store/database.ts';

export interface CallbackRow {
  callback_id: number;
  client_id: string;
  url: string;
  secret: string;
  created_at: string;
}

/** Delivery attempts of one notification, and the wait before each retry (ms). */
const RETRY_DELAYS_MS = [1000, 5000, 30000];
const DELIVERY_TIMEOUT_MS = 10_000;

/**
 * Prediction callbacks (beyond the original): each finished prediction is POSTed as JSON to the client's
 * registered URLs, signed with HMAC-SHA256 of the body under the callback's secret
 * (`X-Kensa-Signature: sha256=<hex>`), and retried on failure. Retries live in memory: a notification still
 * waiting when the server stops is not sent.
 */
export class CallbacksService {
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly db: Db, private readonly retryDelaysMs: number[] = RETRY_DELAYS_MS) {}

  register(clientId: string, url: string) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ApiError(400, 'invalidRequest', message('callbackUrlInvalid', { url }));
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ApiError(400, 'invalidRequest', message('callbackUrlInvalid', { url }));
    const secret = randomBytes(24).toString('base64url');
    const info = this.db.prepare('INSERT INTO callbacks (client_id, url, secret, created_at) VALUES (?, ?, ?, ?)').run(clientId, parsed.href, secret, nowIso());
    return this.present(this.db.prepare('SELECT * FROM callbacks WHERE callback_id = ?').get(info.lastInsertRowid) as CallbackRow, true);
  }

  list(clientId: string) {
    return (this.db.prepare('SELECT * FROM callbacks WHERE client_id = ? ORDER BY callback_id').all(clientId) as CallbackRow[]).map((r) => this.present(r, false));
  }

  remove(clientId: string, callbackId: string): void {
    const result = /^\d+$/.test(callbackId) ? this.db.prepare('DELETE FROM callbacks WHERE client_id = ? AND callback_id = ?').run(clientId, Number(callbackId)) : { changes: 0 };
    if (result.changes === 0) throw new ApiError(404, 'callbackNotFound');
  }

  /** The secret is shown once, when the callback is registered. */
  private present(row: CallbackRow, withSecret: boolean) {
    return { callback_id: row.callback_id, url: row.url, created_at: row.created_at, ...(withSecret ? { secret: row.secret } : {}) };
  }

  /** Sends a finished prediction to every callback of the client (does not wait for delivery). */
  notify(clientId: string, payload: unknown): void {
    if (this.closed) return;
    const rows = this.db.prepare('SELECT * FROM callbacks WHERE client_id = ?').all(clientId) as CallbackRow[];
    const body = JSON.stringify(payload);
    for (const row of rows) void this.deliver(row, body, 0);
  }

  private async deliver(row: CallbackRow, body: string, attempt: number): Promise<void> {
    const signature = createHmac('sha256', row.secret).update(body).digest('hex');
    try {
      const response = await fetch(row.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-kensa-signature': `sha256=${signature}`, 'x-kensa-attempt': String(attempt + 1) },
        body,
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return;
    } catch {
      // Unreachable or too slow: retried below like an error answer.
    }
    if (this.closed || attempt >= this.retryDelaysMs.length) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.deliver(row, body, attempt + 1);
    }, this.retryDelaysMs[attempt]);
    this.timers.add(timer);
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
