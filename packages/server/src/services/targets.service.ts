import { ApiError, message } from '../http/errors.ts';
import type { OutboundPolicy } from '../outbound/address-policy.ts';
import { refuseOutboundHost } from '../outbound/registration.ts';
import type { TargetRow, TargetsRepository } from '../store/targets.repository.ts';

/** A target with what it holds and where its predictions are published (targets.wire.ts shapes the answer). */
export interface TargetOverview {
  target: TargetRow;
  counts: { items: number; models: number };
  /** The broker (its URL as configured) and topic; null when its predictions are published nowhere. */
  mqtt: { url: string; topic: string } | null;
}

/** The MQTT topic a target's finished predictions are published to. */
export function mqttTopicOf(target: Pick<TargetRow, 'client_id' | 'target_id'>): string {
  // Ids, not names: a name may hold MQTT wildcards (+, #) or slashes.
  return `kensa/${encodeURIComponent(target.client_id)}/targets/${target.target_id}/predictions`;
}

/**
 * Inspection targets (beyond the original): a client keeps product lines apart, each with its own items,
 * models and active model. Requests without a target use the default one, so the original routes are unchanged.
 */
export class TargetsService {
  constructor(
    private readonly targets: TargetsRepository,
    private readonly policy: OutboundPolicy,
    private readonly installationMqttUrl: string | null = null,
  ) {}

  /** The target a request names (its id, or its name), or the default one when it names none; 404 otherwise. */
  async resolve(clientId: string, target: string | number | null | undefined): Promise<TargetRow> {
    if (target === undefined || target === null || target === '') return this.targets.defaultOf(clientId);
    const text = String(target);
    const found = (/^\d+$/.test(text) ? await this.targets.find(clientId, Number(text)) : undefined) ?? await this.targets.findByName(clientId, text);
    if (!found) throw new ApiError(404, 'targetNotFound', text);
    return found;
  }

  byId(targetId: number): Promise<TargetRow | undefined> {
    return this.targets.findById(targetId);
  }

  async list(clientId: string): Promise<TargetOverview[]> {
    return Promise.all((await this.targets.list(clientId)).map((t) => this.overview(t)));
  }

  async create(clientId: string, request: { name: string; mqtt_url?: string | null }): Promise<TargetOverview> {
    const name = request.name.trim();
    if (name === '') throw new ApiError(400, 'invalidRequest', message('fieldEnum', { field: 'name', values: '1–100 characters' }));
    if (await this.targets.findByName(clientId, name) || /^\d+$/.test(name)) throw new ApiError(400, 'targetNameTaken', name);
    const mqttUrl = request.mqtt_url ? request.mqtt_url.trim() : null;
    if (mqttUrl !== null) {
      let parsed: URL | null = null;
      try { parsed = new URL(mqttUrl); } catch { /* refused below */ }
      if (!parsed || !['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:'].includes(parsed.protocol)) {
        throw new ApiError(400, 'invalidRequest', message('fieldEnum', { field: 'mqtt_url', values: 'mqtt://host:port, mqtts://, ws://, wss://' }));
      }
      await refuseOutboundHost(parsed, this.policy, 'mqtt_url');
    }
    return this.overview(await this.targets.insert(clientId, name, mqttUrl));
  }

  /**
   * Deletes an empty target (not the default one). Answers the broker URL that no target uses any more, whose
   * connection the caller closes.
   */
  async remove(clientId: string, reference: string): Promise<{ unusedBrokerUrl: string | null }> {
    const target = await this.resolve(clientId, reference);
    if (target.is_default === 1) throw new ApiError(409, 'defaultTargetKept');
    const counts = await this.targets.counts(target.target_id);
    if (counts.items > 0 || counts.models > 0) throw new ApiError(409, 'targetNotEmpty', message('targetContents', { items: counts.items, models: counts.models }));
    await this.targets.delete(target.target_id);
    const url = target.mqtt_url;
    return { unusedBrokerUrl: url !== null && url !== this.installationMqttUrl && !await this.targets.anyUsingBroker(url) ? url : null };
  }

  /** The broker a target's predictions go to: its own, else the installation's (KENSA_MQTT_URL), else none. */
  mqttUrlOf(target: TargetRow): string | null {
    return target.mqtt_url ?? this.installationMqttUrl;
  }

  private async overview(target: TargetRow): Promise<TargetOverview> {
    const mqttUrl = this.mqttUrlOf(target);
    return { target, counts: await this.targets.counts(target.target_id), mqtt: mqttUrl === null ? null : { url: mqttUrl, topic: mqttTopicOf(target) } };
  }
}
