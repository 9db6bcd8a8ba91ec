import { createHmac, randomBytes } from 'node:crypto';
import { ApiError, message } from '../http/errors.ts';
import type { OutboundPolicy } from '../outbound/address-policy.ts';
import { postToTenantUrl } from '../outbound/http-post.ts';
import { refuseOutboundHost } from '../outbound/registration.ts';
import { urlWithoutCredentials } from '../outbound/url-credentials.ts';
import { nowIso, sql, type Database } from '../store/database.ts';

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
  status: 'pending' | 'sending' | 'delivered' | 'failed';
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
/** How often the outbox is looked at when nothing is due (other processes add to it). */
const POLL_MS = 2000;

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

  private pumping = false;
  private pumpAgain = false;

  constructor(
    private readonly db: Database,
    private readonly policy: OutboundPolicy,
    private readonly retryDelaysMs: number[] = RETRY_DELAYS_MS,
    /** The operator's log: why a delivery failed (the tenant only learns that it did). */
    private readonly log: (text: string) => void = () => {},
  ) {}

  /** Starts sending the outbox (after a restart: what was waiting). */
  start(): void {
    this.started = true;
    this.pump();
  }

  async register(clientId: string, url: string, modelId: number | null = null) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ApiError(400, 'invalidRequest', message('callbackUrlInvalid', { url }));
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ApiError(400, 'invalidRequest', message('callbackUrlInvalid', { url }));
    await refuseOutboundHost(parsed, this.policy, 'url');
    if (modelId !== null && !await this.db.get(sql`SELECT 1 AS found FROM models WHERE client_id = ${clientId} AND model_id = ${modelId}`)) {
      throw new ApiError(404, 'modelsNotFound');
    }
    const secret = randomBytes(24).toString('base64url');
    const row = await this.db.get<CallbackRow>(sql`INSERT INTO callbacks (client_id, url, secret, model_id, created_at)
      VALUES (${clientId}, ${parsed.href}, ${secret}, ${modelId}, ${nowIso()}) RETURNING *`);
    return this.present(row!, true);
  }

  async list(clientId: string) {
    const rows = await this.db.all<CallbackRow>(sql`SELECT * FROM callbacks WHERE client_id = ${clientId} ORDER BY callback_id`);
    return Promise.all(rows.map((r) => this.present(r, false)));
  }

  async remove(clientId: string, callbackId: string): Promise<void> {
    const changes = /^\d+$/.test(callbackId)
      ? await this.db.run(sql`DELETE FROM callbacks WHERE client_id = ${clientId} AND callback_id = ${Number(callbackId)}`)
      : 0;
    if (changes === 0) throw new ApiError(404, 'callbackNotFound');
  }

  /** The newest deliveries of one callback with their state (GET /callbacks/{id}/deliveries). */
  async deliveries(clientId: string, callbackId: string, limit = 100) {
    const callback = /^\d+$/.test(callbackId)
      ? await this.db.get<CallbackRow>(sql`SELECT * FROM callbacks WHERE client_id = ${clientId} AND callback_id = ${Number(callbackId)}`)
      : undefined;
    if (!callback) throw new ApiError(404, 'callbackNotFound');
    const rows = await this.db.all<DeliveryRow>(sql`SELECT * FROM callback_deliveries WHERE callback_id = ${callback.callback_id}
      ORDER BY delivery_id DESC LIMIT ${limit}`);
    return rows.map((row) => {
      const event = JSON.parse(row.body) as { event?: string; item_id?: string; model_id?: number };
      const waiting = row.status === 'pending' || row.status === 'sending';
      return {
        delivery_id: row.delivery_id,
        event: event.event ?? null,
        item_id: event.item_id ?? null,
        model_id: event.model_id ?? null,
        status: waiting ? 'pending' : row.status,
        attempts: row.attempts,
        last_status: row.last_status,
        last_error: row.last_error,
        next_attempt_at: waiting ? new Date(row.next_attempt_at).toISOString() : null,
        created_at: row.created_at,
        delivered_at: row.delivered_at,
      };
    });
  }

  /** The secret is shown once, when the callback is registered. */
  private async present(row: CallbackRow, withSecret: boolean) {
    const counts = await this.db.all<{ status: string; n: number }>(sql`SELECT status, COUNT(*) AS n FROM callback_deliveries
      WHERE callback_id = ${row.callback_id} GROUP BY status`);
    const count = (status: string) => counts.find((c) => c.status === status)?.n ?? 0;
    return {
      callback_id: row.callback_id, url: urlWithoutCredentials(row.url), model_id: row.model_id, created_at: row.created_at,
      deliveries: { pending: count('pending') + count('sending'), delivered: count('delivered'), failed: count('failed') },
      ...(withSecret ? { secret: row.secret } : {}),
    };
  }

  /** Puts a finished prediction in the outbox of every matching callback; sending happens in the background. */
  async notify(clientId: string, modelId: number, payload: unknown): Promise<void> {
    const rows = await this.db.all<CallbackRow>(sql`SELECT * FROM callbacks WHERE client_id = ${clientId}
      AND (model_id IS NULL OR model_id = ${modelId})`);
    if (rows.length === 0) return;
    const body = JSON.stringify(payload);
    const now = Date.now();
    await this.db.transaction(async () => {
      for (const row of rows) {
        await this.db.run(sql`INSERT INTO callback_deliveries (callback_id, body, next_attempt_at, created_at)
          VALUES (${row.callback_id}, ${body}, ${now}, ${nowIso()})`);
      }
    });
    this.pump();
  }

  /** Sends the due deliveries (a few at a time) and sleeps until the next one is due; one pass at a time. */
  private pump(): void {
    if (this.closed || !this.started) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    void this.pumpOnce().catch(() => { /* the database is closing or unreachable: the next poll tries again */ }).finally(() => {
      this.pumping = false;
      if (this.pumpAgain) {
        this.pumpAgain = false;
        this.pump();
      }
    });
  }

  private async pumpOnce(): Promise<void> {
    const now = Date.now();
    const free = CONCURRENT_DELIVERIES - this.inFlight.size;
    if (free > 0) {
      const due = await this.db.all<DeliveryRow & { url: string; secret: string }>(sql`SELECT d.*, c.url, c.secret FROM callback_deliveries d
        JOIN callbacks c ON c.callback_id = d.callback_id WHERE d.status IN ('pending', 'sending') AND d.next_attempt_at <= ${now}
        ORDER BY d.next_attempt_at, d.delivery_id LIMIT ${free + this.inFlight.size}`);
      for (const row of due) {
        if (this.closed || this.inFlight.has(row.delivery_id) || this.inFlight.size >= CONCURRENT_DELIVERIES) continue;
        // Several servers and workers send from one outbox: the one whose update lands owns the attempt. A sender that
        // dies mid-way leaves "sending" with a deadline, after which the delivery is due again.
        const claimed = await this.db.run(sql`UPDATE callback_deliveries SET status = 'sending', next_attempt_at = ${now + 2 * DELIVERY_TIMEOUT_MS}
          WHERE delivery_id = ${row.delivery_id} AND status = ${row.status} AND next_attempt_at = ${row.next_attempt_at}`);
        if (claimed === 0) continue;
        this.inFlight.add(row.delivery_id);
        void this.send(row).finally(() => {
          this.inFlight.delete(row.delivery_id);
          this.pump();
        });
      }
    }
    const next = await this.db.get<{ at: number | null }>(sql`SELECT MIN(next_attempt_at) AS at FROM callback_deliveries
      WHERE status IN ('pending', 'sending') AND next_attempt_at > ${now}`);
    // Other processes add deliveries too: look again after a while even when nothing is due.
    const at = Math.min(next?.at ?? Infinity, now + POLL_MS);
    if (at < this.timerDueAt && !this.closed) {
      if (this.timer) clearTimeout(this.timer);
      this.timerDueAt = at;
      this.timer = setTimeout(() => {
        this.timer = null;
        this.timerDueAt = Infinity;
        this.pump();
      }, Math.max(0, at - now));
      this.timer.unref();
    }
  }

  private async send(row: DeliveryRow & { url: string; secret: string }): Promise<void> {
    const signature = createHmac('sha256', row.secret).update(row.body).digest('hex');
    const attempt = row.attempts + 1;
    let status: number | null = null;
    let failure: string | null = null;
    try {
      status = await postToTenantUrl(row.url, {
        'content-type': 'application/json', 'x-kensa-signature': `sha256=${signature}`,
        'x-kensa-delivery': String(row.delivery_id), 'x-kensa-attempt': String(attempt),
      }, row.body, this.policy, DELIVERY_TIMEOUT_MS);
      // Redirects are not followed: only a 2xx delivers.
      if (status < 200 || status > 299) failure = `HTTP ${status}`;
    } catch (e) {
      // Unreachable, too slow, or an address the policy refuses: retried like an error answer.
      failure = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
    if (failure !== null) this.log(`callback ${row.callback_id} delivery ${row.delivery_id} attempt ${attempt} to ${urlWithoutCredentials(row.url)} failed: ${failure}`);
    // The tenant sees "delivery failed" whatever the reason: an answer's status or a refused connection would tell
    // them what the server can reach (a port scanner through our callbacks).
    const recorded = failure === null ? { status, error: null } : { status: null, error: 'delivery failed' };
    // The database may be closing; a success not recorded is sent again later (at least once).
    await this.record(row.delivery_id, attempt, recorded.status, recorded.error).catch(() => {});
  }

  private async record(deliveryId: number, attempt: number, status: number | null, error: string | null): Promise<void> {
    if (error === null) {
      await this.db.run(sql`UPDATE callback_deliveries SET status = 'delivered', attempts = ${attempt}, last_status = ${status},
        last_error = NULL, delivered_at = ${nowIso()} WHERE delivery_id = ${deliveryId}`);
      return;
    }
    const giveUp = attempt > this.retryDelaysMs.length;
    await this.db.run(sql`UPDATE callback_deliveries SET status = ${giveUp ? 'failed' : 'pending'}, attempts = ${attempt},
      last_status = ${status}, last_error = ${error.slice(0, 500)},
      next_attempt_at = ${giveUp ? Date.now() : Date.now() + this.retryDelaysMs[attempt - 1]} WHERE delivery_id = ${deliveryId}`);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

