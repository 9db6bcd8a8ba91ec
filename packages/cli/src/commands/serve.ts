import { parseFlags, usage, UsageError, type CommandSpec } from '../flags.ts';
import { serverSettings } from '../server-settings.ts';

export const serveCommand: CommandSpec = {
  name: 'serve',
  summary: 'Run the Kensa server until Ctrl-C',
  usage: 'kensa serve [--data-dir DIR] [--host HOST] [--port N] [--bootstrap-client ID:SECRET …] [--workers N | --no-workers] [--json]',
  examples: [
    'kensa serve                                  # 127.0.0.1:8080, data in ./data',
    'kensa serve --port 0 --data-dir /tmp/kensa --bootstrap-client demo:demo-secret',
    'KENSA_DATA_DIR=/srv/kensa HOST=0.0.0.0 PORT=9000 kensa serve --json',
    'KENSA_DATABASE_URL=postgres://db/kensa KENSA_BLOB_URL=s3://bucket kensa serve --no-workers   # an API server of a scale-out installation',
  ],
  async run(argv) {
    const { flags, repeated, positional } = parseFlags(argv, {
      string: ['data-dir', 'host', 'port', 'workers'],
      boolean: ['json', 'no-workers'],
      repeat: ['bootstrap-client'],
    });
    if (positional.length) throw new UsageError(`serve takes no arguments (got ${positional.join(' ')})`);
    const settings = await serverSettings(flags);
    const { startServer, parsePort, parsePositiveInteger, parseBootstrapClients } = await import('@kensa/server');
    // Flags win over the environment; clients named by flags are kept along with KENSA_BOOTSTRAP_CLIENT's.
    const server = await startServer({
      ...settings,
      runQueuedJobs: !flags['no-workers'],
      host: flags.host === undefined ? settings.host : String(flags.host),
      port: flags.port === undefined ? settings.port : usage(() => parsePort(String(flags.port), '--port')),
      workers: flags.workers === undefined ? settings.workers : usage(() => parsePositiveInteger(String(flags.workers), '--workers')),
      bootstrapClients: [...usage(() => parseBootstrapClients((repeated['bootstrap-client'] ?? []).join(','), '--bootstrap-client')), ...settings.bootstrapClients],
    });
    const created = server.createdClient;
    // One line: the process keeps running, so a script reads the first line of its output.
    if (flags.json) console.log(JSON.stringify({ url: server.url, created_client: created ? { client_id: created.clientId, client_secret: created.clientSecret } : null }));
    else {
      console.log(`Kensa listening on ${server.url} (API at ${server.url.replace(/\/$/, '')}/api) — Ctrl-C stops it`);
      if (created) {
        // Shown once: the secret is stored only as a hash.
        console.log(`First start: created client ${created.clientId} with secret ${created.clientSecret} and a license.`);
        console.log(`  kensa login --url ${server.url}/api --client-id ${created.clientId} --client-secret ${created.clientSecret}`);
      }
    }
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    if (!flags.json) console.log('Stopping: finishing requests in flight…');
    await server.close();
    return 0;
  },
};
