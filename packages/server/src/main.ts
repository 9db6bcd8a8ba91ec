/** `npm start`: serves the API (and the web UI) from environment settings; stops cleanly on SIGINT/SIGTERM. */
import { httpSettingsFromEnv, scaleOutSettingsFromEnv, startServer } from './index.ts';

const port = process.env.PORT === undefined ? 8080 : Number(process.env.PORT);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, got "${process.env.PORT}"`);
  process.exit(2);
}
const workers = process.env.KENSA_WORKERS ? Number(process.env.KENSA_WORKERS) : undefined;

const server = await startServer({
  dataDir: process.env.KENSA_DATA_DIR ?? './data',
  host: process.env.HOST ?? '127.0.0.1',
  port,
  bootstrapClients: process.env.KENSA_BOOTSTRAP_CLIENT,
  workers,
  mqttUrl: process.env.KENSA_MQTT_URL || null,
  ...httpSettingsFromEnv(),
  ...scaleOutSettingsFromEnv(),
});
if (server.createdClient) {
  console.log('First start: created a client with an active licence. Keep these credentials; they are not shown again.');
  console.log(`  client_id:     ${server.createdClient.clientId}`);
  console.log(`  client_secret: ${server.createdClient.clientSecret}`);
}
console.log(`Kensa listening on ${server.url} (API ${server.url}/api, docs ${server.url}/api/docs)`);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: finishing requests and stopping`);
  await server.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
