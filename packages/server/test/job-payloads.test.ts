import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JobPayloadError, readJob, tryReadJob } from '../src/jobs/payloads.ts';
import type { JobRow } from '../src/store/jobs.repository.ts';

const row = (name: string, payload: string): JobRow => ({
  job_id: 7, name, client_id: 'alice', payload_json: payload, status: 'queued', attempts: 0, error: null,
  created_at: '2026-01-01T00:00:00Z', started_at: null, finished_at: null, worker_id: null, lease_expires_at: null,
});

test('readJob gives each job name its typed payload', () => {
  const train = readJob(row('train', '{"modelId":3}'));
  assert.equal(train.name, 'train');
  assert.deepEqual(train.payload, { modelId: 3 });
  const predict = readJob(row('predict', '{"modelId":3,"itemPk":12}'));
  assert.deepEqual(predict.payload, { modelId: 3, itemPk: 12 });
  assert.equal(predict.job_id, 7, 'the row stays as it was');
});

test('readJob refuses a payload that does not fit its name; tryReadJob gives null for it', () => {
  for (const [name, payload] of [['predict', '{"modelId":3}'], ['train', '{"modelId":"3"}'], ['train', 'not json'], ['train', 'null'], ['resize', '{"modelId":3}']]) {
    assert.throws(() => readJob(row(name, payload)), JobPayloadError, `${name} ${payload}`);
    assert.equal(tryReadJob(row(name, payload)), null);
  }
});
