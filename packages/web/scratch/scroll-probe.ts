import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { chromium } from 'playwright-core';
import { VisualInspectionSDK } from '@kensa/sdk';
import { startServer } from '@kensa/server';
const WEB_ROOT = resolve(import.meta.dirname, '..');
const CLIENT = { clientId: 'probe', clientSecret: 'probe-secret-123' };
const count = Number(process.argv[2] ?? 2000);
const webDist = await mkdtemp(join(tmpdir(), 'kensa-web-dist-'));
const dataDir = await mkdtemp(join(tmpdir(), 'kensa-web-bench-'));
const { build } = await import('vite');
await build({ configFile: join(WEB_ROOT, 'vite.config.ts'), logLevel: 'error', build: { outDir: webDist, emptyOutDir: true, minify: false } });
const server = await startServer({ dataDir, port: 0, bootstrapClients: [CLIENT], workers: 1, webDist });
const sdk = new VisualInspectionSDK({ apiUrl: server.url, ...CLIENT });
for (let start = 0; start < count; start += 200) {
  const batch = await Promise.all(Array.from({ length: Math.min(200, count - start) }, async (_, k) => {
    const i = start + k; const pixels = Buffer.alloc(16 * 16 * 3, 128); pixels[0] = i & 255; pixels[1] = (i >> 8) & 255;
    return { name: `lot-${String(i).padStart(6, '0')}.png`, data: await sharp(pixels, { raw: { width: 16, height: 16, channels: 3 } }).png().toBuffer(), type: 'image/png' };
  }));
  await sdk.upload(batch, true);
}
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
for (const variant of (process.argv[3] ?? 'plain,noimg').split(',')) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  await context.addInitScript('globalThis.__name = (f) => f;');
  const page = await context.newPage();
  if (variant === 'noimg') await page.route('**/thumbnail?**', (r) => r.abort());
  await page.goto(`${server.url}/`);
  await page.getByLabel('Client id').fill(CLIENT.clientId);
  await page.getByLabel('Client secret').fill(CLIENT.clientSecret);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForFunction((n) => document.querySelector('[data-tab="training"] .count')?.textContent === String(n), count);
  await page.waitForTimeout(500);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  const result = await page.evaluate(async () => {
    const longTasks: string[] = [];
    const observer = new PerformanceObserver((list) => { for (const e of list.getEntries()) longTasks.push(`${e.duration.toFixed(0)}@${e.startTime.toFixed(0)}`); });
    observer.observe({ type: 'longtask' });
    const grid = document.querySelector<HTMLElement>('[data-testid="item-grid"]')!;
    const frameTimes: number[] = [];
    let last = performance.now();
    const t0 = last;
    while (grid.scrollTop + grid.clientHeight < grid.scrollHeight - 1) {
      grid.scrollTop += grid.clientHeight;
      await new Promise((r) => requestAnimationFrame(r));
      const now = performance.now(); frameTimes.push(now - last); last = now;
    }
    await new Promise((r) => setTimeout(r, 300));
    observer.disconnect();
    frameTimes.sort((a, b) => b - a);
    return { t0: t0.toFixed(0), longTasks, worstFrames: frameTimes.slice(0, 8).map((f) => f.toFixed(0)), frames: frameTimes.length };
  });
  const { profile } = await cdp.send('Profiler.stop') as any;
  const self = new Map<string, number>();
  const dt = new Map<number, number>();
  profile.samples.forEach((id: number, i: number) => dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  for (const node of profile.nodes) {
    const key = `${node.callFrame.functionName || '(anon)'} ${node.callFrame.url.split('/').pop()}:${node.callFrame.lineNumber}`;
    self.set(key, (self.get(key) ?? 0) + (dt.get(node.id) ?? 0));
  }
  console.log([...self].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, v]) => `${(v / 1000).toFixed(0)}ms ${k}`).join('\n'));
  console.log(variant, JSON.stringify(result));
  await context.close();
}
await browser.close();
await server.close();
