import type { SampleProduct, SampleProjectResults } from '@kensa/engine';
import { sql, type Database } from './database.ts';

export type SampleStep = 'images' | 'upload' | 'train' | 'predict' | 'done';

/** Where a sample project stands, as kept (one JSON document a job, so any API server can report it). */
export interface SampleProjectState {
  job_id: string;
  client_id: string;
  status: 'running' | 'done' | 'failed';
  step: SampleStep;
  /** 0…1 over the whole job. */
  progress: number;
  product: SampleProduct;
  seed: number;
  algorithm_id: string;
  target_id: number | null;
  model_id: number | null;
  /** The held-back items, predicted at the end. */
  item_ids: string[];
  results: SampleProjectResults | null;
  error: string | null;
  started_at: string;
  finished_at: string | null;
}

export interface SampleProjectRow {
  state: SampleProjectState;
  /** When the state was last written (ms since the epoch): a running job that stops moving lost its server. */
  updated_at: number;
}

interface StoredSampleProject {
  state_json: string;
  updated_at: number;
}

const rowOf = ({ state_json, updated_at }: StoredSampleProject): SampleProjectRow => ({ state: JSON.parse(state_json) as SampleProjectState, updated_at });

/** The sample projects of clients (the web UI's "Load sample project"). */
export class SampleProjectsRepository {
  constructor(private readonly db: Database) {}

  async find(clientId: string, jobId: string): Promise<SampleProjectRow | undefined> {
    const row = await this.db.get<StoredSampleProject>(sql`SELECT state_json, updated_at FROM sample_projects
      WHERE job_id = ${jobId} AND client_id = ${clientId}`);
    return row && rowOf(row);
  }

  async ofClient(clientId: string): Promise<SampleProjectRow[]> {
    return (await this.db.all<StoredSampleProject>(sql`SELECT state_json, updated_at FROM sample_projects
      WHERE client_id = ${clientId}`)).map(rowOf);
  }

  async save(state: SampleProjectState, updatedAt: number): Promise<void> {
    await this.db.run(sql`INSERT INTO sample_projects (job_id, client_id, state_json, updated_at) VALUES (${state.job_id}, ${state.client_id},
      ${JSON.stringify(state)}, ${updatedAt}) ON CONFLICT (job_id) DO UPDATE SET state_json = excluded.state_json, updated_at = excluded.updated_at`);
  }
}
