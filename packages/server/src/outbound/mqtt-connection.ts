import { connect as netConnect, isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import mqtt, { MqttClient, type IClientOptions } from 'mqtt';
import { guardedLookup, refuseHostName, type OutboundPolicy } from './address-policy.ts';

/** Waits between reconnection attempts to a broker that does not answer: doubling from the first to the cap. */
export interface ReconnectBackoff {
  firstMs: number;
  maxMs: number;
}

export const DEFAULT_RECONNECT_BACKOFF: ReconnectBackoff = { firstMs: 2000, maxMs: 5 * 60_000 };

/**
 * Connects to a tenant's broker under the outbound address policy: a literal address is checked here, a name on
 * every (re)connection by the socket's lookup, which connects to the address it checked. Refused addresses throw
 * OutboundAddressRefused (literal) or fail each connection (names).
 */
export function connectMqttBroker(url: string, policy: OutboundPolicy, options: IClientOptions, backoff = DEFAULT_RECONNECT_BACKOFF): MqttClient {
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  // A literal address is connected to without a lookup: refused here (it cannot change later).
  refuseHostName(host, policy);
  const lookup = guardedLookup(policy);
  const withReconnect = { ...options, reconnectPeriod: backoff.firstMs };
  let client: MqttClient;
  if (parsed.protocol === 'ws:' || parsed.protocol === 'wss:') {
    // The ws library passes its options on to http.request, lookup included.
    client = mqtt.connect(url, { ...withReconnect, wsOptions: { lookup } });
  } else {
    // mqtt.js's own TCP connector passes no lookup to net.connect: the socket is made here instead.
    const secure = parsed.protocol === 'mqtts:' || parsed.protocol === 'ssl:' || parsed.protocol === 'tls:';
    const port = Number(parsed.port) || (secure ? 8883 : 1883);
    const connectSocket = () => (secure
      ? tlsConnect({ host, port, lookup, servername: isIP(host) === 0 ? host : undefined })
      : netConnect({ host, port, lookup }));
    client = new MqttClient(connectSocket, {
      ...withReconnect,
      protocol: secure ? 'mqtts' : 'mqtt',
      host, port,
      username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
      password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    });
  }
  backOffReconnects(client, backoff);
  return client;
}

/** mqtt.js reconnects on one fixed interval; these private methods (de)arm it, and are how the period changes. */
interface ReconnectTimer {
  _clearReconnect(): void;
  _setupReconnect(): void;
}

/**
 * A broker that refuses connections is tried again after a wait that doubles up to `maxMs`, instead of every
 * `firstMs` for ever; a connection that succeeds starts the waits over.
 */
function backOffReconnects(client: MqttClient, backoff: ReconnectBackoff): void {
  const timer = client as unknown as ReconnectTimer;
  let failures = 0;
  client.on('connect', () => {
    failures = 0;
    client.options.reconnectPeriod = backoff.firstMs;
  });
  client.on('close', () => {
    // mqtt.js's own close handler ran first (it was registered first) and armed its interval: re-arm it longer.
    if (client.disconnecting) return;
    failures++;
    client.options.reconnectPeriod = Math.min(backoff.maxMs, backoff.firstMs * 2 ** (failures - 1));
    timer._clearReconnect();
    timer._setupReconnect();
  });
}
