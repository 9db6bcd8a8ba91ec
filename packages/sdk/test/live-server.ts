/**
 * A real Kensa server on a free loopback port with a temporary data folder, for the clients' tests
 * (the SDK's, the command line's and the Python SDK's all walk their life against it).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sampleDataset } from '../../engine/test/sample-datasets.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '../../..');

/** The cookies dataset (MVTec layout) beside the checkout, as in CI. */
export const COOKIES = process.env.KENSA_COOKIES_DIR ?? sampleDataset('cookies');

export const cookie = (split: 'train/good' | 'test/good' | 'test/defect', name: string) => join(COOKIES, split, name);

export interface LiveServer {
  url: string;
  /** `url` + `/api`, what the SDKs take. */
  apiUrl: string;
  dataDir: string;
  /** Makes a client with no license (straight in the data folder, as `kensa client create` does). */
  createClient(clientId: string, clientSecret: string): Promise<void>;
  /** A license file's text for a client, as `kensa license issue` writes it. */
  issueLicense(clientId: string, days?: number): Promise<string>;
  close(): Promise<void>;
}

export async function startLiveServer(clients: { clientId: string; clientSecret: string }[]): Promise<LiveServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'kensa-clients-'));
  const server = await import('@kensa/server');
  // The clients' tests register callbacks and brokers on this machine: a loopback installation allows them.
  const running = await server.startServer({ dataDir, host: '127.0.0.1', port: 0, bootstrapClients: clients, workers: 1, allowPrivateTargets: true });
  const url = running.url.replace(/\/+$/, '');
  return {
    url,
    apiUrl: url.endsWith('/api') ? url : `${url}/api`,
    dataDir,
    async createClient(clientId, clientSecret) {
      await server.createClient({ dataDir, clientId, clientSecret });
    },
    issueLicense: (clientId, days = 30) => server.issueLicense({ dataDir, clientId, days }),
    async close() {
      await running.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The algorithm these tests train with: PM, the quickest on aligned cookies, else the first one listed. */
export function fastestAlgorithm(ids: string[]): string {
  return ids.includes('PM') ? 'PM' : ids[0];
}

/** Parameters that keep training to seconds on two cores. */
export const QUICK_PARAMS = { working_size: 64 };
