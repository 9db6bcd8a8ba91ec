import mqtt, { type MqttClient } from 'mqtt';
import type { TargetRow } from '../store/targets.repository.ts';
import { mqttTopicOf, type TargetsService } from './targets.service.ts';

const CLOSE_GRACE_MS = 2000;

/**
 * Line integration by MQTT (beyond the original): each finished prediction is published (QoS 1, JSON) to
 * its target's topic `kensa/<client>/targets/<target_id>/predictions` on the target's broker, or the
 * installation's (`KENSA_MQTT_URL`). One connection per broker, opened on first use; while a broker is
 * unreachable the client library queues messages and reconnects. Publishing never blocks or fails a prediction.
 */
export class MqttService {
  private readonly clients = new Map<string, MqttClient>();
  private closed = false;
  /** The last publishing error per broker, for the log and tests. */
  readonly lastErrors = new Map<string, string>();

  constructor(private readonly targets: TargetsService, private readonly log: (text: string) => void = () => {}) {}

  publishPrediction(target: TargetRow, prediction: Record<string, unknown>): void {
    const url = this.targets.mqttUrlOf(target);
    if (url === null || this.closed) return;
    const payload = JSON.stringify({ ...prediction, client_id: target.client_id, target_id: target.target_id });
    this.clientFor(url).publishAsync(mqttTopicOf(target), payload, { qos: 1 }).catch((error: unknown) => {
      const text = error instanceof Error ? error.message : String(error);
      this.lastErrors.set(url, text);
      this.log(`MQTT publish to ${mqttTopicOf(target)} failed: ${text}`);
    });
  }

  private clientFor(url: string): MqttClient {
    let client = this.clients.get(url);
    if (!client) {
      client = mqtt.connect(url, { clientId: `kensa-${process.pid}-${Math.random().toString(16).slice(2, 10)}`, reconnectPeriod: 2000, connectTimeout: 5000 });
      client.on('error', (error) => this.lastErrors.set(url, error.message));
      this.clients.set(url, client);
    }
    return client;
  }

  async close(): Promise<void> {
    this.closed = true;
    // Messages still queued get a moment to leave; an unreachable broker must not hold up the shutdown.
    await Promise.allSettled([...this.clients.values()].map(async (client) => {
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), CLOSE_GRACE_MS); });
      const outcome = await Promise.race([client.endAsync(false).then(() => 'ended' as const), gaveUp]);
      clearTimeout(timer);
      if (outcome === 'late') await client.endAsync(true);
    }));
    this.clients.clear();
  }
}
