import { createHmac, randomBytes } from 'node:crypto';
import { ApiError, message } from '../http/errors.ts';
import type { OutboundPolicy } from '../outbound/address-policy.ts';
import { postToTenantUrl } from '../outbound/http-post.ts';
import { refuseOutboundHost } from '../outbound/registration.ts';
import { urlWithoutCredentials } from '../outbound/url-credentials.ts';
import type { CallbackRow, CallbacksRepository, DeliveryStatus, DueDelivery, ListedDelivery } from '../store/callbacks.repository.ts';
import type { ModelsRepository } from '../store/models.repository.ts';

/** A callback with how its deliveries stand (callbacks.wire.ts shapes the answer). */
export interface CallbackOverview {
  callback: CallbackRow;
  deliveries: Record<DeliveryStatus, number>;
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
    private readonly callbacks: CallbacksRepository,
    private readonly models: ModelsRepository,
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

  /** A new callback; its secret is in the answer to registration only (see callbacks.wire.ts). */
  async register(clientId: string, url: string, modelId: number | null = null): Promise<CallbackOverview> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ApiError(400, 'invalidRequest', message('callbackUrlInvalid', { url }));
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ApiError(400, 'invalidRequest', message('callbackUrlInvalid', { url }));
    await refuseOutboundHost(parsed, this.policy, 'url');
    if (modelId !== null && !await this.models.find(clientId, modelId)) throw new ApiError(404, 'modelsNotFound');
    const secret = randomBytes(24).toString('base64url');
    return this.overview(await this.callbacks.insert(clientId, parsed.href, secret, modelId));
  }

  async list(clientId: string): Promise<CallbackOverview[]> {
    return Promise.all((await this.callbacks.list(clientId)).map((row) => this.overview(row)));
  }

  async remove(clientId: string, callbackId: string): Promise<void> {
    const removed = /^\d+$/.test(callbackId) && await this.callbacks.delete(clientId, Number(callbackId));
    if (!removed) throw new ApiError(404, 'callbackNotFound');
  }

  /** The newest deliveries of one callback with their state (GET /callbacks/{id}/deliveries). */
  async deliveries(clientId: string, callbackId: string, limit = 100): Promise<ListedDelivery[]> {
    const callback = /^\d+$/.test(callbackId) ? await this.callbacks.find(clientId, Number(callbackId)) : undefined;
    if (!callback) throw new ApiError(404, 'callbackNotFound');
    return this.callbacks.deliveries(callback.callback_id, limit);
  }

  private async overview(callback: CallbackRow): Promise<CallbackOverview> {
    return { callback, deliveries: await this.callbacks.deliveryCounts(callback.callback_id) };
  }

  /** Puts a finished prediction in the outbox of every matching callback; sending happens in the background. */
  async notify(clientId: string, modelId: number, payload: unknown): Promise<void> {
    const rows = await this.callbacks.forModel(clientId, modelId);
    if (rows.length === 0) return;
    await this.callbacks.enqueue(rows.map((row) => row.callback_id), JSON.stringify(payload), Date.now());
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
      const due = await this.callbacks.due(now, free + this.inFlight.size);
      for (const row of due) {
        if (this.closed || this.inFlight.has(row.delivery_id) || this.inFlight.size >= CONCURRENT_DELIVERIES) continue;
        // A sender that dies mid-way leaves "sending" with a deadline, after which the delivery is due again.
        if (!await this.callbacks.claim(row, now + 2 * DELIVERY_TIMEOUT_MS)) continue;
        this.inFlight.add(row.delivery_id);
        void this.send(row).finally(() => {
          this.inFlight.delete(row.delivery_id);
          this.pump();
        });
      }
    }
    // Other processes add deliveries too: look again after a while even when nothing is due.
    const at = Math.min(await this.callbacks.nextDueAfter(now) ?? Infinity, now + POLL_MS);
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

  private async send(row: DueDelivery): Promise<void> {
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

  /** An attempt's outcome: delivered, or waiting for the next retry, or given up after the last. */
  private async record(deliveryId: number, attempt: number, status: number | null, error: string | null): Promise<void> {
    if (error === null) {
      await this.callbacks.markDelivered(deliveryId, attempt, status);
      return;
    }
    const giveUp = attempt > this.retryDelaysMs.length;
    await this.callbacks.markAttemptFailed(deliveryId, attempt, { status, error: error.slice(0, 500) },
      { giveUp, at: giveUp ? Date.now() : Date.now() + this.retryDelaysMs[attempt - 1] });
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

