// What the web UI's browser tests share: Debian's Chromium (skipped with a message when absent), and the UI built into
// a private folder and served by a real server on a fresh data folder, so that a developer's dist/ and data are left alone.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const WEB_ROOT = resolve(import.meta.dirname, '..');

export const chromiumSkip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent: install Debian's Chromium (apt-get install -y chromium) to run the web UI tests`;

export interface WebServer {
  baseUrl: string;
  /** Stops the server and removes its folders. */
  close: () => Promise<void>;
}

export async function startWebServer(clients: { clientId: string; clientSecret: string }[]): Promise<WebServer> {
  const webDist = await mkdtemp(join(tmpdir(), 'kensa-web-dist-'));
  const dataDir = await mkdtemp(join(tmpdir(), 'kensa-web-data-'));
  const { build } = await import('vite');
  await build({ configFile: join(WEB_ROOT, 'vite.config.ts'), logLevel: 'error', build: { outDir: webDist, emptyOutDir: true } });
  const { startServer } = await import('@kensa/server');
  // The callbacks test registers a hook on this machine (as a line system on the factory LAN would be).
  const server = await startServer({ dataDir, host: '127.0.0.1', port: 0, bootstrapClients: clients, workers: 1, webDist, allowPrivateTargets: true });
  return {
    baseUrl: server.url,
    close: async () => {
      await server.close();
      for (const dir of [webDist, dataDir]) await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
