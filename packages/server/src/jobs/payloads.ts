/**
 * Queued jobs by name: what each one's row carries (`payload_json`), what its worker gets and gives back. Payloads
 * hold ids only; the rows they name are read when the job runs.
 */
import type { JobRow } from '../store/jobs.repository.ts';
import type { PredictInput, PredictOutput, QueuedJobName, TrainInput, TrainOutput } from './protocol.ts';

export interface QueuedJobTypes {
  train: { payload: { modelId: number }; input: TrainInput; output: TrainOutput };
  predict: { payload: { modelId: number; itemPk: number }; input: PredictInput; output: PredictOutput };
}

export type JobPayload<N extends QueuedJobName> = QueuedJobTypes[N]['payload'];

/** A job row with its payload read; `name` tells which payload it carries. */
export type QueuedJob<N extends QueuedJobName = QueuedJobName> = { [K in N]: JobRow & { name: K; payload: JobPayload<K> } }[N];

/** A row whose payload does not fit its name (written by another version, or by hand). */
export class JobPayloadError extends Error {
  constructor(row: Pick<JobRow, 'job_id' | 'name'>, why: string) {
    super(`job ${row.job_id} (${row.name}): ${why}`);
    this.name = 'JobPayloadError';
  }
}

/** Reads a job row's payload and checks it against the job's name. */
export function readJob(row: JobRow): QueuedJob {
  let parsed: unknown;
  try {
    parsed = JSON.parse(row.payload_json);
  } catch {
    throw new JobPayloadError(row, 'its payload is not JSON');
  }
  const id = (key: string): number => {
    const value = (parsed as Record<string, unknown> | null)?.[key];
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new JobPayloadError(row, `its payload has no ${key}`);
    return value;
  };
  switch (row.name) {
    case 'train': return { ...row, name: 'train', payload: { modelId: id('modelId') } };
    case 'predict': return { ...row, name: 'predict', payload: { modelId: id('modelId'), itemPk: id('itemPk') } };
    default: throw new JobPayloadError(row, 'no job has this name');
  }
}

/** The job, or null when this version cannot read it (another version's job waiting in a shared queue). */
export function tryReadJob(row: JobRow): QueuedJob | null {
  try {
    return readJob(row);
  } catch (error) {
    if (error instanceof JobPayloadError) return null;
    throw error;
  }
}
