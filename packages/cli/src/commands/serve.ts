import { parseFlags, UsageError, type CommandSpec } from '../flags.ts';

/** `id:secret` pairs, as in `KENSA_BOOTSTRAP_CLIENT`. */
export function parseClientPairs(values: string[]): { clientId: string; clientSecret: string }[] {
  return values.flatMap((value) => value.split(',')).filter(Boolean).map((pair) => {
    const colon = pair.indexOf(':');
    if (colon <= 0 || colon === pair.length - 1) throw new UsageError(`A client is id:secret, not ${pair}`);
    return { clientId: pair.slice(0, colon), clientSecret: pair.slice(colon + 1) };
  });
}

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
    const port = Number(flags.port ?? process.env.PORT ?? 8080);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0–65535, not ${flags.port}`);
    const workersText = flags.workers ?? process.env.KENSA_WORKERS;
    const workers = workersText === undefined || workersText === '' ? undefined : Number(workersText);
    if (workers !== undefined && (!Number.isInteger(workers) || workers < 1)) throw new UsageError(`--workers must be a positive integer`);
    const pairs = [...(repeated['bootstrap-client'] ?? [])];
    if (process.env.KENSA_BOOTSTRAP_CLIENT) pairs.push(process.env.KENSA_BOOTSTRAP_CLIENT);
    const { startServer, scaleOutSettingsFromEnv, httpSettingsFromEnv } = await import('@kensa/server');
    const server = await startServer({
      ...scaleOutSettingsFromEnv(),
      ...httpSettingsFromEnv(),
      runQueuedJobs: !flags['no-workers'],
      mqttUrl: process.env.KENSA_MQTT_URL || null,
      dataDir: String(flags['data-dir'] ?? process.env.KENSA_DATA_DIR ?? './data'),
      host: String(flags.host ?? process.env.HOST ?? '127.0.0.1'),
      port,
      bootstrapClients: parseClientPairs(pairs),
      workers,
    });
    const created = server.createdClient;
    // One line: the process keeps running, so a script reads the first line of its output.
    if (flags.json) console.log(JSON.stringify({ url: server.url, created_client: created ? { client_id: created.clientId, client_secret: created.clientSecret } : null }));
    else {
      console.log(`Kensa listening on ${server.url} (API at ${server.url.replace(/\/$/, '')}/api) — Ctrl-C stops it`);
      if (created) {
        // Shown once: the secret is stored only as a hash.
        console.log(`First start: created client ${created.clientId} with secret ${created.clientSecret} and a licence.`);
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
