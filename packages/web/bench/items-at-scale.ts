/**
 * The items page with many items, in Chromium against a real server: how long the list takes to arrive and
 * show, and how fast filtering, scrolling to the end and switching tabs answer. Not part of `npm test` (uploading 10,000
 * images takes minutes on a shared machine).
 *
 *   node --import tsx packages/web/bench/items-at-scale.ts [count=10000]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { chromium } from 'playwright-core';
import { VisualInspectionSDK } from '@kensa/sdk';
import { startServer } from '@kensa/server';

const count = Number(process.argv[2] ?? 10_000);
const WEB_ROOT = resolve(import.meta.dirname, '..');
const CLIENT = { clientId: 'bench', clientSecret: 'bench-secret-123' };

const webDist = await mkdtemp(join(tmpdir(), 'kensa-web-dist-'));
const dataDir = await mkdtemp(join(tmpdir(), 'kensa-web-bench-'));
const { build } = await import('vite');
await build({ configFile: join(WEB_ROOT, 'vite.config.ts'), logLevel: 'error', build: { outDir: webDist, emptyOutDir: true } });
const server = await startServer({ dataDir, port: 0, bootstrapClients: [CLIENT], workers: 1, webDist });
const sdk = new VisualInspectionSDK({ apiUrl: server.url, ...CLIENT });

try {
  // Distinct 16×16 images (the index in the first pixel), uploaded 200 per request, the server's limit.
  const started = performance.now();
  for (let start = 0; start < count; start += 200) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(200, count - start) }, async (_, k) => {
        const i = start + k;
        const pixels = Buffer.alloc(16 * 16 * 3, 128);
        pixels[0] = i & 255;
        pixels[1] = (i >> 8) & 255;
        pixels[2] = (i >> 16) & 255;
        const data = await sharp(pixels, { raw: { width: 16, height: 16, channels: 3 } }).png().toBuffer();
        return { name: `lot-${String(i).padStart(6, '0')}.png`, data, type: 'image/png' };
      }),
    );
    await sdk.upload(batch, true); // training items, good: they land in the first tab
  }
  console.log(`uploaded ${count} items in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const listStart = performance.now();
  const items = await sdk.getItems();
  console.log(`GET /api/v1/items (SDK, Node): ${(performance.now() - listStart).toFixed(0)} ms for ${items.training.length + items.predict.length} items`);

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  await page.goto(`${server.url}/`);
  await page.getByLabel('Client id').fill(CLIENT.clientId);
  await page.getByLabel('Client secret').fill(CLIENT.clientSecret);
  const time = async (label: string, action: () => Promise<unknown>) => {
    const t0 = performance.now();
    await action();
    console.log(`${label}: ${(performance.now() - t0).toFixed(0)} ms`);
  };
  await time('sign in → first page of cards', async () => {
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.item-card').first().waitFor({ timeout: 60_000 });
  });
  // Measured inside the page: from the input event to the frame that shows the new count.
  // A string, not a function: tsx would wrap inner functions in a helper the page does not have.
  const filterLatency = (text: string): Promise<number> =>
    page.evaluate(`(async () => {
      const input = document.querySelector('[data-testid="item-filter"]');
      const shown = () => (document.querySelector('[data-testid="item-count"]') ?? document.querySelector('.empty'))?.textContent;
      const before = shown();
      const t0 = performance.now();
      input.value = ${JSON.stringify(text)};
      input.dispatchEvent(new Event('input', { bubbles: true }));
      while (shown() === before) await new Promise((r) => requestAnimationFrame(r));
      await new Promise((r) => requestAnimationFrame(r));
      return performance.now() - t0;
    })()`);
  for (const text of ['lot-0001', 'lot-000999', '']) {
    console.log(`filter "${text}" → grid shown: ${(await filterLatency(text)).toFixed(0)} ms (in page)`);
  }
  // The grid is virtual: scroll to its end a viewport per frame, counting long tasks (as the e2e test does).
  console.log(`scroll to the end: ${await page.evaluate(`(async () => {
    const grid = document.querySelector('[data-testid="item-grid"]');
    const longTasks = [];
    const observer = new PerformanceObserver((list) => { for (const e of list.getEntries()) longTasks.push(e.duration); });
    observer.observe({ type: 'longtask' });
    const t0 = performance.now();
    while (grid.scrollTop + grid.clientHeight < grid.scrollHeight - 1) {
      grid.scrollTop += grid.clientHeight;
      await new Promise((r) => requestAnimationFrame(r));
    }
    await new Promise((r) => setTimeout(r, 300));
    observer.disconnect();
    return (performance.now() - t0).toFixed(0) + ' ms, ' + longTasks.length + ' long tasks, the longest ' + Math.max(0, ...longTasks).toFixed(0) + ' ms';
  })()`)}`);
  await time('switch to the predict tab and back', async () => {
    await page.locator('[data-tab="predict"]').click();
    await page.locator('[data-tab="training"]').click();
    await page.locator('.item-card').first().waitFor();
  });
  const heap = await page.evaluate(() => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0);
  if (heap) console.log(`JS heap after: ${(heap / 1e6).toFixed(0)} MB`);
  await browser.close();
} finally {
  await server.close();
  await rm(dataDir, { recursive: true, force: true });
  await rm(webDist, { recursive: true, force: true });
}

