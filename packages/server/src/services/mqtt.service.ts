import type { MqttClient } from 'mqtt';
import type { OutboundPolicy } from '../outbound/address-policy.ts';
import { connectMqttBroker, DEFAULT_RECONNECT_BACKOFF, type ReconnectBackoff } from '../outbound/mqtt-connection.ts';
import { urlWithoutCredentials } from '../outbound/url-credentials.ts';
import type { TargetRow } from '../store/targets.repository.ts';
import { mqttTopicOf, type TargetsService } from './targets.service.ts';

const CLOSE_GRACE_MS = 2000;
const OPERATOR_CHOSEN: OutboundPolicy = { allowPrivate: true };
/** Messages waiting for one broker's acknowledgement before newer ones are dropped (a broker down for hours). */
const DEFAULT_MAX_PENDING = 10_000;

/**
 * Line integration by MQTT (beyond the original): each finished prediction is published (QoS 1, JSON) to
 * its target's topic `kensa/<client>/targets/<target_id>/predictions` on the target's broker, or the
 * installation's (`KENSA_MQTT_URL`). One connection per broker, opened on first use; while a broker is
 * unreachable the client library queues messages and reconnects with growing waits (see mqtt-connection.ts), up to
 * `maxPending` per broker; beyond that new messages are dropped and counted (the predictions themselves stay in
 * Kensa), so a long outage cannot exhaust memory. Publishing never blocks or fails a prediction. Brokers are
 * reached only at addresses the outbound policy allows.
 */
export class MqttService {
  private readonly clients = new Map<string, MqttClient>();
  private closed = false;
  /** The last publishing error per broker, for the log and tests. */
  readonly lastErrors = new Map<string, string>();
  /** Messages published but not yet acknowledged, per broker. */
  readonly pending = new Map<string, number>();
  /** Messages dropped because their broker had `maxPending` unacknowledged ones, per broker. */
  readonly dropped = new Map<string, number>();

  constructor(
    private readonly targets: Pick<TargetsService, 'mqttUrlOf'>,
    private readonly policy: OutboundPolicy,
    private readonly log: (text: string) => void = () => {},
    private readonly maxPending = DEFAULT_MAX_PENDING,
    private readonly backoff: ReconnectBackoff = DEFAULT_RECONNECT_BACKOFF,
  ) {}

  /** Connections open (or reconnecting), by broker URL. */
  get brokers(): string[] {
    return [...this.clients.keys()];
  }

  publishPrediction(target: TargetRow, prediction: Record<string, unknown>): void {
    const url = this.targets.mqttUrlOf(target);
    if (url === null || this.closed) return;
    const waiting = this.pending.get(url) ?? 0;
    if (waiting >= this.maxPending) {
      const dropped = (this.dropped.get(url) ?? 0) + 1;
      this.dropped.set(url, dropped);
      // Once, then every thousandth: an outage must not flood the log either.
      if (dropped % 1000 === 1) {
        this.log(`MQTT broker ${url} has ${waiting} messages unacknowledged: ${dropped} prediction(s) not published (they are kept in Kensa)`);
      }
      return;
    }
    let client: MqttClient;
    try {
      // The installation's own broker (KENSA_MQTT_URL) is the operator's choice, not a tenant's: any address goes.
      client = this.clientFor(url, target.mqtt_url === null ? OPERATOR_CHOSEN : this.policy);
    } catch (error) {
      // An address the policy refuses (a literal one; names fail on connecting): nothing is sent.
      const text = error instanceof Error ? error.message : String(error);
      this.lastErrors.set(url, text);
      this.log(`MQTT broker ${urlWithoutCredentials(url)} not used: ${text}`);
      return;
    }
    this.pending.set(url, waiting + 1);
    const payload = JSON.stringify({ ...prediction, client_id: target.client_id, target_id: target.target_id });
    client.publishAsync(mqttTopicOf(target), payload, { qos: 1 })
      .finally(() => this.pending.set(url, (this.pending.get(url) ?? 1) - 1))
      .catch((error: unknown) => {
        const text = error instanceof Error ? error.message : String(error);
        this.lastErrors.set(url, text);
        this.log(`MQTT publish to ${mqttTopicOf(target)} failed: ${text}`);
      });
  }

  private clientFor(url: string, policy: OutboundPolicy): MqttClient {
    let client = this.clients.get(url);
    if (!client) {
      client = connectMqttBroker(url, policy, { clientId: `kensa-${process.pid}-${Math.random().toString(16).slice(2, 10)}`, connectTimeout: 5000 }, this.backoff);
      client.on('error', (error) => this.lastErrors.set(url, error.message));
      this.clients.set(url, client);
    }
    return client;
  }

  /** Ends the connection to a broker no target uses any more (a deleted target's). */
  async disconnect(url: string): Promise<void> {
    const client = this.clients.get(url);
    if (!client) return;
    this.clients.delete(url);
    this.pending.delete(url);
    // A broker that is not connected has nothing to flush: no grace to wait out.
    await (client.connected ? endGracefully(client) : client.endAsync(true));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.clients.values()].map(endGracefully));
    this.clients.clear();
  }
}

/** Messages still queued get a moment to leave; an unreachable broker must not hold up the caller. */
async function endGracefully(client: MqttClient): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), CLOSE_GRACE_MS); });
  const outcome = await Promise.race([client.endAsync(false).then(() => 'ended' as const), gaveUp]);
  clearTimeout(timer);
  if (outcome === 'late') await client.endAsync(true);
}
