import assert from 'node:assert/strict';
import { test } from 'node:test';
import { completeSettings, DEFAULT_HTTP_TIMEOUTS, DEFAULT_UPLOAD_LIMITS, readSettings } from '../src/settings.ts';

test('readSettings: with no variables set, the documented defaults', () => {
  assert.deepEqual(readSettings({}), {
    dataDir: './data', host: '127.0.0.1', port: 8080, workers: undefined, bootstrapClients: [], mqttUrl: null,
    databaseUrl: null, blobUrl: null, jobLeaseMs: undefined, allowPrivateTargets: false, publicUrl: null, trustProxy: false, logger: false,
  });
});

test('readSettings: each variable lands in its setting', () => {
  assert.deepEqual(readSettings({
    KENSA_DATA_DIR: '/srv/kensa', HOST: '0.0.0.0', PORT: '0', KENSA_WORKERS: '3',
    KENSA_BOOTSTRAP_CLIENT: 'alice:alice-secret, bob:b:c', KENSA_MQTT_URL: 'mqtt://broker:1883',
    KENSA_DATABASE_URL: 'postgres://db/kensa', KENSA_BLOB_URL: 's3://bucket', KENSA_JOB_LEASE_MS: '5000',
    KENSA_ALLOW_PRIVATE_TARGETS: '1', KENSA_PUBLIC_URL: 'https://kensa.example.com/inspect/', KENSA_TRUST_PROXY: '1', KENSA_LOG: '1',
  }), {
    dataDir: '/srv/kensa', host: '0.0.0.0', port: 0, workers: 3,
    bootstrapClients: [{ clientId: 'alice', clientSecret: 'alice-secret' }, { clientId: 'bob', clientSecret: 'b:c' }],
    mqttUrl: 'mqtt://broker:1883', databaseUrl: 'postgres://db/kensa', blobUrl: 's3://bucket', jobLeaseMs: 5000,
    allowPrivateTargets: true, publicUrl: 'https://kensa.example.com/inspect', trustProxy: true, logger: true,
  });
});

test('readSettings: empty values mean unset, and switches are on only at "1"', () => {
  const settings = readSettings({
    KENSA_WORKERS: '', KENSA_BOOTSTRAP_CLIENT: '', KENSA_MQTT_URL: '', KENSA_DATABASE_URL: '', KENSA_BLOB_URL: '',
    KENSA_JOB_LEASE_MS: '', KENSA_PUBLIC_URL: ' ', KENSA_TRUST_PROXY: 'true', KENSA_LOG: 'yes', KENSA_ALLOW_PRIVATE_TARGETS: '0',
  });
  assert.equal(settings.workers, undefined);
  assert.deepEqual(settings.bootstrapClients, []);
  assert.equal(settings.databaseUrl, null);
  assert.equal(settings.jobLeaseMs, undefined);
  assert.equal(settings.publicUrl, null);
  assert.equal(settings.trustProxy, false);
  assert.equal(settings.logger, false);
  assert.equal(settings.allowPrivateTargets, false);
});

test('readSettings: a wrong value is refused with a message naming its variable', () => {
  const refusals: [NodeJS.ProcessEnv, RegExp][] = [
    [{ PORT: 'eighty' }, /PORT must be a port number \(0–65535\), got "eighty"/],
    [{ PORT: '65536' }, /PORT must be a port number/],
    [{ PORT: '80.5' }, /PORT must be a port number/],
    [{ PORT: '' }, /PORT must be a port number/],
    [{ KENSA_WORKERS: '0' }, /KENSA_WORKERS must be a positive integer, got "0"/],
    [{ KENSA_WORKERS: 'many' }, /KENSA_WORKERS must be a positive integer/],
    [{ KENSA_JOB_LEASE_MS: '999' }, /KENSA_JOB_LEASE_MS must be at least 1000, got 999/],
    [{ KENSA_BOOTSTRAP_CLIENT: 'alice' }, /KENSA_BOOTSTRAP_CLIENT entries must be client_id:client_secret, got "alice"/],
    [{ KENSA_PUBLIC_URL: 'ftp://kensa.example.com' }, /KENSA_PUBLIC_URL must be an http\(s\) URL/],
  ];
  for (const [env, message] of refusals) assert.throws(() => readSettings(env), message, JSON.stringify(env));
});

test('completeSettings: settings given in code take the same defaults as the environment\'s, and the runtime ones theirs', () => {
  const { runQueuedJobs, limits, timeouts, webDist, logStream, callbackRetryDelaysMs, ...settings } = completeSettings({ dataDir: './data', port: undefined });
  assert.deepEqual(settings, readSettings({}));
  assert.equal(runQueuedJobs, true);
  assert.deepEqual(limits, DEFAULT_UPLOAD_LIMITS);
  assert.deepEqual(timeouts, DEFAULT_HTTP_TIMEOUTS);
  assert.match(String(webDist), /packages[\\/]web[\\/]dist[\\/]?$/);
  assert.equal(logStream, undefined);
  assert.equal(callbackRetryDelaysMs, undefined);

  const given = completeSettings({ dataDir: '/srv/kensa', limits: { maxFilesPerRequest: 5 }, timeouts: { bodyIdleMs: 700 }, webDist: null, publicUrl: 'https://kensa.example.com/' });
  assert.deepEqual(given.limits, { ...DEFAULT_UPLOAD_LIMITS, maxFilesPerRequest: 5 });
  assert.deepEqual(given.timeouts, { ...DEFAULT_HTTP_TIMEOUTS, bodyIdleMs: 700 });
  assert.equal(given.webDist, null);
  assert.equal(given.publicUrl, 'https://kensa.example.com');
  assert.throws(() => completeSettings({ dataDir: '/srv/kensa', publicUrl: 'ftp://kensa.example.com' }), /KENSA_PUBLIC_URL must be an http\(s\) URL/);
});
