/** `npm start`: serves the API (and the web UI) from environment settings; stops cleanly on SIGINT/SIGTERM. */
import { readSettings, startServer, type Settings } from './index.ts';

let settings: Settings;
try {
  settings = readSettings();
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
const server = await startServer(settings);
if (server.createdClient) {
  console.log('First start: created a client with an active license. Keep these credentials; they are not shown again.');
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
