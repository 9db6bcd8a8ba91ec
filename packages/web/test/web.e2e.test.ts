/**
 * The web UI end to end, in Debian's Chromium against a real server and the cookies dataset: sign in, upload
 * (good, defect, for prediction, a long file name), annotate by dragging, train, predict, open an NG item and
 * find its detected box drawn, review, dashboard, switch to Japanese (labels and the server's errors), and a
 * tablet-sized screen, product lines (targets: create, upload into one, switch back, live refresh of the items
 * page), and the sample project of an empty installation (the UI switches to its product line). Screenshots of the
 * main pages go to test/screenshots/ (git-ignored) for a person to look at; the few that docs/getting-started.md
 * shows are copied to docs/images/ (committed) only with KENSA_UPDATE_DOCS_IMAGES=1, so a run leaves the checkout clean.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { sampleDataset } from '../../engine/test/sample-datasets.ts';
import { chromiumSkip, launchChromium, startWebServer, WEB_ROOT } from './chromium.ts';

const COOKIES = process.env.KENSA_COOKIES_DIR ?? sampleDataset('cookies');
const SCREENSHOTS = join(WEB_ROOT, 'test', 'screenshots');
const DOC_IMAGES = resolve(WEB_ROOT, '../../docs/images');
/** Screenshot name → its file under docs/images/. */
const DOC_SCREENSHOTS: Record<string, string> = {
  '05-train-form': 'train-form.png', '07-predict-done': 'items-predicted.png', '08-item-ng-detected': 'item-ng-detected.png', '10-dashboard': 'dashboard.png',
};
const CLIENT = { clientId: 'web-e2e', clientSecret: 'web-e2e-secret-123' };
/** A second client whose installation is still empty: the sample project's button shows only then. */
const SAMPLE_CLIENT = { clientId: 'web-e2e-empty', clientSecret: 'web-e2e-empty-secret-123' };
// Long enough to break a careless layout (91 characters, no spaces); the server serves item ids up to 255.
const LONG_ID = `lot-2026-11-28-line-07-station-03-camera-left-${'x'.repeat(40)}-0001`;
const JAPANESE = /[\u3040-\u30ff\u4e00-\u9faf]/;


describe('web UI in Chromium', { skip: chromiumSkip }, () => {
  let browser: Browser;
  let page: Page;
  let baseUrl: string;
  let closeServer: () => Promise<void>;
  const temporary: string[] = [];
  const cspViolations: string[] = [];
  let filesDir: string;

  const shot = async (name: string) => {
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
    // A few are the pictures of docs/getting-started.md (committed), refreshed on request only.
    const documented = DOC_SCREENSHOTS[name];
    if (documented && process.env.KENSA_UPDATE_DOCS_IMAGES === '1') await copyFile(join(SCREENSHOTS, `${name}.png`), join(DOC_IMAGES, documented));
  };
  /** No page may scroll sideways: long ids and wide tables must wrap or truncate. */
  const assertNoHorizontalOverflow = async (where: string) => {
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 1, `${where}: the page is ${overflow}px wider than the window`);
  };
  const goto = async (hash: string) => {
    await page.evaluate((h) => (location.hash = h), hash);
  };

  before(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    // Build the UI into a private folder, so that a developer's dist/ is left alone.
    filesDir = await mkdtemp(join(tmpdir(), 'kensa-web-files-'));
    temporary.push(filesDir);
    const server = await startWebServer([CLIENT, SAMPLE_CLIENT]);
    baseUrl = server.baseUrl;
    closeServer = server.close;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1366, height: 768 }, locale: 'en-GB' });
    // The server's Content-Security-Policy must not break the UI: Chromium reports every refusal on the console.
    page.on('console', (entry) => { if (/Content Security Policy/i.test(entry.text())) cspViolations.push(entry.text()); });
    page.setDefaultTimeout(30_000); // the machine is shared: a busy neighbour slows every step
  });

  after(async () => {
    await browser?.close();
    await closeServer?.();
    for (const dir of temporary) await rm(dir, { recursive: true, force: true });
  });

  const images = async (split: string, count: number) => {
    const dir = join(COOKIES, split);
    const names = (await readdir(dir)).filter((n) => n.endsWith('.jpg')).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    return names.slice(0, count).map((n) => join(dir, n));
  };

  const upload = async (files: string[], kind: 'good' | 'defect' | 'predict') => {
    await page.locator(`input[name="upload-kind"][value="${kind}"]`).check();
    await page.getByTestId('file-input').setInputFiles(files);
    await page.locator('.upload-panel .button-primary').click();
    await page.locator('.upload-panel .text-success').waitFor();
  };

  test('sign in: a wrong secret is refused readably, the right one opens the items', async () => {
    await page.goto(`${baseUrl}/`);
    await page.getByLabel('Client id').fill(CLIENT.clientId);
    await page.getByLabel('Client secret').fill('not-the-secret');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('Client id and secret mismatch').waitFor();
    await shot('01-sign-in-error');
    await page.getByLabel('Client secret').fill(CLIENT.clientSecret);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.mainnav').waitFor();
    assert.equal(await page.locator('h1').textContent(), 'Items');
    // The header shows the server's license state (GET /v1/license), not "Not checked yet".
    await page.locator('.license-chip.license-active', { hasText: 'License: Active' }).waitFor();
  });

  test('upload good, defect and prediction images; a long id does not break the layout', async () => {
    const good = await images('train/good', 12);
    await upload(good.slice(0, 10), 'good');
    await page.locator('.item-card').first().waitFor();
    // The other two by drag-and-drop onto the drop zone.
    const dropped = await Promise.all(good.slice(10).map(async (path) => ({ name: basename(path), base64: (await readFile(path)).toString('base64') })));
    const dataTransfer = await page.evaluateHandle((files) => {
      const transfer = new DataTransfer();
      for (const f of files) transfer.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name, { type: 'image/jpeg' }));
      return transfer;
    }, dropped);
    await page.getByTestId('drop-zone').dispatchEvent('drop', { dataTransfer });
    await page.getByText('Ready to upload: 2').waitFor();
    await page.locator('.upload-panel .button-primary').click();
    await page.locator('.upload-panel .text-success').getByText('Uploaded: 2 items.').waitFor();
    await page.waitForFunction(() => document.querySelector('[data-tab="training"] .count')?.textContent === '12');
    await upload((await images('test/defect', 1)), 'defect');

    // A long file name: the id shows truncated, the page never scrolls sideways.
    const longFile = join(filesDir, `${LONG_ID}.jpg`);
    await copyFile((await images('test/good', 1))[0], longFile);
    await goto('#/items?tab=predict');
    const predictFiles = [...(await images('test/defect', 4)).slice(1), ...(await images('test/good', 3)).slice(1), longFile];
    // A file that is not an image is refused by the server; it stays listed with the reason, the others go in.
    const notAnImage = join(filesDir, 'not-an-image.png');
    await writeFile(notAnImage, 'this is text, not a PNG');
    await upload([...predictFiles, notAnImage], 'predict');
    await page.locator(`[data-item-id="${LONG_ID}"] img.thumb`).waitFor();
    assert.equal(await page.locator('[data-tab="predict"] .count').textContent(), String(predictFiles.length));
    const kept = page.locator('.upload-queue .file-list li');
    assert.equal(await kept.count(), 1);
    assert.match((await kept.textContent()) ?? '', /not-an-image\.png.*Invalid/);
    await shot('02a-upload-refused-file-kept');
    await page.getByRole('button', { name: 'Clear' }).click();
    await assertNoHorizontalOverflow('items');

    // Filtering narrows the grid.
    await page.getByTestId('item-filter').fill('station-03');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="item-grid"] .item-card').length === 1);
    await shot('02-items-predict-filtered');
    await page.getByTestId('item-filter').fill('');
    await goto('#/items?tab=training');
    await page.locator('.item-card img.thumb').first().waitFor();
    await shot('03-items-training');
  });

  test('annotate a defect by dragging: draw, move, save, still there after reload', async () => {
    const defectId = (await images('test/defect', 1))[0].replace(/^.*\/|\.jpg$/g, '');
    await goto(`#/item/${encodeURIComponent(defectId)}`);
    const layer = page.getByTestId('annotation-layer');
    await page.locator('.stage-image').first().waitFor();
    const box = (await layer.boundingBox())!;
    // Draw from 30 % to 50 % of the image.
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.3);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.4, box.y + box.height * 0.4, { steps: 5 });
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5, { steps: 5 });
    await page.mouse.up();
    assert.equal(await page.getByTestId('annotation-box').count(), 1);
    const drawn = await page.getByTestId('annotation-box').boundingBox();
    // Move it by dragging its middle 10 % of the width to the right.
    await page.mouse.move(drawn!.x + drawn!.width / 2, drawn!.y + drawn!.height / 2);
    await page.mouse.down();
    await page.mouse.move(drawn!.x + drawn!.width / 2 + box.width * 0.1, drawn!.y + drawn!.height / 2, { steps: 5 });
    await page.mouse.up();
    const moved = await page.getByTestId('annotation-box').boundingBox();
    assert.ok(Math.abs(moved!.x - drawn!.x - box.width * 0.1) < 3, `the box moved by ${moved!.x - drawn!.x}px`);
    await page.getByTestId('save-annotations').click();
    await page.getByRole('status').getByText('Saved.').waitFor();
    await shot('04-item-annotated');

    await page.reload();
    await page.getByTestId('annotation-box').waitFor();
    const saved = await page.getByTestId('annotation-box').boundingBox();
    // Stored in pixels of the original image, shown again where it was left.
    assert.ok(Math.abs(saved!.x - moved!.x) < 3 && Math.abs(saved!.width - moved!.width) < 3, 'the saved box is where it was drawn');

    // Keyboard: a box takes focus and Delete removes it; "Add box" puts one in the middle, arrows move it,
    // + grows it (not saved: the stored box stays on the server).
    await page.getByTestId('annotation-box').focus();
    await page.keyboard.press('Delete');
    assert.equal(await page.getByTestId('annotation-box').count(), 0);
    await page.getByTestId('add-box').click();
    const added = (await page.getByTestId('annotation-box').boundingBox())!;
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('+');
    const nudged = (await page.getByTestId('annotation-box').boundingBox())!;
    assert.ok(nudged.x + nudged.width / 2 > added.x + added.width / 2 + 2, 'the arrow key moved the box right');
    assert.ok(nudged.width > added.width + 1, '+ made the box larger');

    // A training label can be corrected (and put back).
    await page.getByTestId('label-good').click();
    await page.getByRole('status').getByText('Training label set: Good.').waitFor();
    await page.locator('.page-head .badge[data-verdict="good"]').waitFor();
    await page.getByTestId('label-defect').click();
    await page.getByRole('status').getByText('Training label set: Defect.').waitFor();
    await page.locator('.page-head .badge[data-verdict="defect"]').waitFor();
  });

  test('a model that cannot train says why', async () => {
    // RF learns from annotated NG images; given only two good items the server refuses the training before it is
    // queued (checkTrainingData), and the form says why.
    await goto('#/train');
    await page.locator('[data-algorithm="RF"] input').check();
    await page.locator('input[name="working_size"]').fill('64');
    await page.getByTestId('model-name').fill('rf-without-defects');
    await page.getByText('Choose items').click();
    await page.locator('.item-picker input[type="search"]').fill('normal-1');
    await page.locator('.pick-list input[type="checkbox"]').first().check();
    await page.locator('.pick-list input[type="checkbox"]').nth(1).check();
    await page.getByTestId('start-training').click();
    const refusal = page.getByRole('alert').filter({ hasText: 'RF needs' });
    await refusal.waitFor();
    assert.match((await refusal.textContent()) ?? '', /Not enough training data.*RF needs .*NG/);
    assert.match(page.url(), /#\/train/, 'the form stays, to be corrected');
  });

  test('train from the generated form and watch the model become ready', async (t) => {
    await goto('#/train');
    const algorithm = page.locator('[data-algorithm="PM"] input');
    await algorithm.waitFor();
    await algorithm.check();
    // The form comes from the schema: defaults filled in; a value out of range is flagged before sending.
    const workingSize = page.locator('input[name="working_size"]');
    assert.equal(await workingSize.inputValue(), '256');
    await workingSize.fill('5');
    await page.getByText('Outside the allowed range').waitFor();
    assert.ok(await page.getByTestId('start-training').isDisabled());
    await workingSize.fill('64');
    await page.getByTestId('model-name').fill('cookies-pm');
    await shot('05-train-form');
    // The models page follows the server's event stream while a model trains (polling only without one).
    const eventStream = page.waitForResponse((r) => r.url().includes('/api/v1/events'), { timeout: 10_000 }).catch(() => null);
    await page.getByTestId('start-training').click();
    await page.waitForURL(/#\/models/);
    const card = page.locator('.model-card', { has: page.locator('h2', { hasText: 'cookies-pm' }) });
    await card.and(page.locator('[data-status="active"]')).waitFor({ timeout: 180_000 });
    assert.equal(await page.locator('.model-card h2').first().textContent(), 'cookies-pm', 'the newest model is listed first');
    const stream = await eventStream;
    assert.ok(stream, 'the models page asked for the event stream');
    if (stream.status() === 404) t.diagnostic('the server has no event stream (GET /api/v1/events answered 404): the page polled');
    else assert.match(stream.headers()['content-type'] ?? '', /text\/event-stream/);
    await shot('06-models');
  });

  test('predict every item and watch them turn from pending to OK / NG; an NG item shows its box', async (t) => {
    await goto('#/predict');
    await page.getByTestId('select-all').click();
    await page.getByTestId('run-prediction').click();
    await page.getByTestId('watched-items').waitFor();
    await page.waitForFunction(
      () => {
        const cards = [...document.querySelectorAll('[data-testid="watched-items"] .item-card')];
        return cards.length > 0 && cards.every((c) => c.getAttribute('data-verdict') !== 'pending');
      },
      undefined,
      { timeout: 180_000 },
    );
    await shot('07-predict-done');
    const ngCard = page.locator('[data-testid="watched-items"] .item-card[data-verdict="NG"]').first();
    assert.ok(await ngCard.count(), 'at least one cookie is found defective');
    await ngCard.locator('a.item-link').click();
    await page.getByTestId('detected-box').first().waitFor();
    const detected = await page.getByTestId('detected-box').first().boundingBox();
    assert.ok(detected && detected.width > 2 && detected.height > 2, 'the detected box is drawn with a visible size');
    if (await page.getByTestId('heatmap-toggle').isEnabled()) {
      await page.getByTestId('heatmap-toggle').check();
      await page.getByTestId('heatmap-opacity').fill('0.6');
      await page.locator('.heatmap-layer img').waitFor();
    }
    await shot('08-item-ng-detected');
    await assertNoHorizontalOverflow('item detail');
    // Review: confirm the NG verdict (PATCH /api/v1/item/{id}, beyond the original).
    await page.getByTestId('review-ng').click();
    const outcome = page.locator('.notice-success, .notice-error').first();
    await outcome.waitFor();
    const text = (await outcome.textContent()) ?? '';
    if ((await outcome.getAttribute('class'))?.includes('notice-error') && /^Not found/.test(text)) {
      t.diagnostic('the server has no review route yet (PATCH /api/v1/item/{id} answered 404): review not checked');
    } else {
      assert.match(text, /Verdict recorded: NG/);
      await page.locator('.badge-confirmed').waitFor();
    }
  });

  test('review queue and dashboard show the predictions', async () => {
    await goto('#/review');
    await page.locator('.review-row, .empty').first().waitFor();
    await shot('09-review');
    await goto('#/dashboard');
    await page.getByTestId('summary-table').waitFor();
    await page.getByTestId('score-histogram').waitFor();
    assert.ok((await page.locator('.chart .bar-ok, .chart .bar-ng').count()) > 0, 'the charts have bars');
    await shot('10-dashboard');
  });

  test('inspect now: verdicts and boxes in the same answer, nothing stored', async () => {
    await goto('#/items?tab=predict');
    await page.locator('.item-card').first().waitFor();
    const predictCount = await page.locator('[data-tab="predict"] .count').textContent();
    await goto('#/inspect');
    const files = [...(await images('test/defect', 7)).slice(5), (await images('test/good', 7))[6]];
    await page.getByTestId('inspect-file').setInputFiles(files);
    await page.waitForFunction(() => document.querySelectorAll('.inspect-result').length === 3, undefined, { timeout: 60_000 });
    await page.locator('.inspect-result .stage-image').first().waitFor();
    assert.ok((await page.locator('.inspect-result[data-verdict="NG"]').count()) >= 1, 'a broken cookie is NG');
    assert.ok((await page.locator('.inspect-result[data-verdict="NG"] [data-testid="detected-box"]').count()) >= 1, 'its box is drawn');
    await shot('09a-inspect');
    await goto('#/items?tab=predict');
    await page.locator('.item-card').first().waitFor();
    assert.equal(await page.locator('[data-tab="predict"] .count').textContent(), predictCount, 'nothing was stored');
  });

  test('models: prediction settings without retraining, export to a file and import it again', async () => {
    await goto('#/models');
    const card = page.locator('.model-card', { has: page.locator('h2', { hasText: 'cookies-pm' }) });
    await card.locator('.prediction-settings summary').click();
    const threshold = card.locator('.prediction-settings input[name="threshold"]');
    assert.match((await threshold.getAttribute('placeholder')) ?? '', /automatic \([\d.]+\)/, 'the threshold training chose is shown');
    await threshold.fill('-1');
    await card.getByText('Outside the allowed range').waitFor();
    await threshold.fill('9.5');
    await card.locator('.prediction-settings button[type="submit"]').click();
    await card.getByText('Settings applied.').waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll('.model-card')].some((c) => c.textContent?.includes('9.50')));
    await shot('06a-model-settings');

    const [download] = await Promise.all([page.waitForEvent('download'), card.getByTestId('export-model').click()]);
    const exported = join(filesDir, download.suggestedFilename());
    await download.saveAs(exported);
    assert.match(download.suggestedFilename(), /^cookies-pm\.kensa-model$/);
    await page.getByTestId('import-model-file').setInputFiles(exported);
    await page.getByRole('status').getByText(/Model .* imported\./).waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll('.model-card h2')].filter((h) => h.textContent === 'cookies-pm').length === 2);
    // The same model without its signature: refused, saying to trust it only knowingly; imported once trusted.
    const unsigned = join(filesDir, 'cookies-pm-unsigned.kensa-model');
    const signed = await readFile(exported);
    await writeFile(unsigned, signed.subarray(0, signed.length - (32 + 64 + 8)));
    await page.getByTestId('import-model-file').setInputFiles(unsigned);
    await page.getByRole('alert').getByText(/not signed/).waitFor();
    await page.getByTestId('import-model-trust').check();
    await page.getByTestId('import-model-file').setInputFiles(unsigned);
    await page.waitForFunction(() => [...document.querySelectorAll('.model-card h2')].filter((h) => h.textContent === 'cookies-pm-unsigned').length === 1);
    await page.getByTestId('import-model-trust').uncheck();
    // A file that is not a model is refused with the server's reason.
    await page.getByTestId('import-model-file').setInputFiles(join(filesDir, 'not-an-image.png'));
    await page.getByRole('alert').waitFor();
  });

  test('items: archive, restore and delete from the item page', async () => {
    await goto('#/item/test-normal-2');
    await page.getByTestId('archive-item').click();
    await page.waitForURL(/tab=archived/);
    await page.locator('.item-card[data-item-id="test-normal-2"]').waitFor();
    await page.locator('.item-card[data-item-id="test-normal-2"] a.item-link').click();
    await page.getByTestId('restore-item').click();
    await page.waitForURL(/tab=predict/);
    await page.locator('.item-card[data-item-id="test-normal-2"]').waitFor();
    await goto('#/item/test-normal-2');
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByTestId('delete-item').click();
    await page.waitForURL(/#\/items/);
    await page.locator('.item-card').first().waitFor();
    assert.equal(await page.locator('.item-card[data-item-id="test-normal-2"]').count(), 0);
  });

  test('keyboard: the navigation and an item open without a mouse; a bad license file is refused readably', async () => {
    await goto('#/items?tab=predict');
    await page.reload();
    await page.locator('.item-card').first().waitFor();
    // Tab from the top of the page: the skip link first, then the brand, the navigation, … an item.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.className), 'skip-link');
    // The grid is one tab stop (its focused card; arrows move inside it), and Enter opens the card's item.
    for (let i = 0; i < 80 && !(await page.evaluate(() => document.activeElement?.getAttribute('role') === 'gridcell')); i++) {
      await page.keyboard.press('Tab');
    }
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/item\//);

    // The page's old spelling still opens it (bookmarks from before the rename).
    await goto('#/licence');
    await page.getByTestId('license-state').waitFor();
    await goto('#/license');
    const bogus = join(filesDir, 'bogus.lic');
    await writeFile(bogus, 'not a license');
    await page.getByTestId('license-file').setInputFiles(bogus);
    await page.getByRole('button', { name: 'Activate' }).click();
    await page.getByRole('alert').getByText('Invalid license!').waitFor();
    // A refused file leaves the license the server has: still active.
    assert.equal(await page.getByTestId('license-state').textContent(), 'Active');
    await shot('11a-license-refused');

    // Callbacks: register one (its secret is shown once), then remove it.
    await page.getByTestId('callback-url').fill('http://127.0.0.1:9/kensa-hook');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByTestId('callback-secret').waitFor();
    assert.ok(((await page.getByTestId('callback-secret').textContent()) ?? '').length >= 16, 'a secret is shown');
    await page.locator('[data-testid="callback-list"] li', { hasText: 'kensa-hook' }).waitFor();
    await shot('11a-settings-callback');
    await page.locator('[data-testid="callback-list"] li').getByRole('button', { name: 'Remove' }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="callback-list"] li').length === 0);
  });

  test('several images into one item; the item shows each of them', async () => {
    await goto('#/items?tab=predict');
    await page.locator('.one-item summary').click();
    await page.locator('.one-item input').fill('two-sides');
    await upload((await images('test/good', 6)).slice(4, 6), 'predict');
    await goto('#/item/two-sides');
    const tabs = page.locator('.image-tab');
    await tabs.first().waitFor();
    assert.equal(await tabs.count(), 2);
    const firstName = await page.locator('.facts dd').nth(0).textContent();
    await tabs.nth(1).click();
    await page.waitForFunction((name) => document.querySelectorAll('.facts dd')[0]?.textContent !== name, firstName);
    await shot('11b-item-two-images');
  });

  test('product lines: create one, upload into it apart from the default one, remembered, live items page', async () => {
    await goto('#/items?tab=training');
    const trainingCount = page.locator('[data-tab="training"] .count');
    await page.waitForFunction(() => /^\d+$/.test(document.querySelector('[data-tab="training"] .count')?.textContent ?? ''));
    const defaultCount = Number(await trainingCount.textContent());
    assert.ok(defaultCount >= 12, `the default line holds the earlier uploads: ${defaultCount}`);

    await page.getByTestId('target').selectOption('new');
    await page.getByTestId('target-name').fill('Line B — caps');
    await shot('16a-target-create');
    await page.getByTestId('target-create').getByRole('button', { name: 'Create' }).click();
    await page.waitForFunction(() => document.querySelector<HTMLSelectElement>('[data-testid="target"]')?.selectedOptions[0]?.textContent?.startsWith('Line B — caps'));
    await page.waitForFunction(() => document.querySelector('[data-tab="training"] .count')?.textContent === '0');

    // Own names, so nothing can be confused with the default line's items of the same photos.
    const lineFiles = await Promise.all((await images('train/good', 2)).map(async (path, index) => {
      const copy = join(filesDir, `line-b-good-${index + 1}.jpg`);
      await copyFile(path, copy);
      return copy;
    }));
    await upload(lineFiles, 'good');
    await page.waitForFunction(() => document.querySelector('[data-tab="training"] .count')?.textContent === '2');
    const cardIds = await page.locator('[data-testid="item-grid"] .item-card').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-item-id')));
    assert.deepEqual(cardIds.sort(), ['line-b-good-1', 'line-b-good-2']);
    await page.locator('.item-card img.thumb').first().waitFor();
    await shot('16b-target-items');

    // The line is in the URL: a reload stays on it; the models page of the new line has no model yet.
    const lineB = await page.evaluate(() => new URLSearchParams(location.hash.split('?')[1] ?? '').get('line'));
    assert.ok(lineB, 'the URL names the line');
    await page.reload();
    await page.waitForFunction(() => document.querySelector('[data-tab="training"] .count')?.textContent === '2');
    await goto('#/models');
    await page.locator('.page p.empty').waitFor(); // "No models yet", while the default line has several
    assert.equal(await page.locator('[data-model-id]').count(), 0, 'the new line has no models');
    assert.equal(await page.evaluate(() => new URLSearchParams(location.hash.split('?')[1] ?? '').get('line')), lineB, 'a link without a line keeps this one');

    // A line in the URL that does not exist (another server's link) falls back to the remembered one.
    await goto('#/items?tab=training&line=999999');
    await page.waitForFunction((id) => new URLSearchParams(location.hash.split('?')[1] ?? '').get('line') === id, lineB);
    await page.waitForFunction(() => document.querySelector('[data-tab="training"] .count')?.textContent === '2');

    // Back to the default line: its items, none of the new line's.
    await goto('#/items?tab=training');
    const defaultValue = await page.getByTestId('target').locator('option').first().getAttribute('value');
    // The items page, started afresh on the switch, follows the server's event stream.
    const stream = page.waitForRequest((request) => request.url().endsWith('/api/v1/events'));
    await page.getByTestId('target').selectOption(defaultValue!);
    await stream;
    await page.waitForFunction((count) => document.querySelector('[data-tab="training"] .count')?.textContent === String(count), defaultCount);
    assert.equal(await page.locator('[data-item-id^="line-b-"]').count(), 0);

    // Live: an item uploaded and predicted elsewhere (here by the SDK) appears with its verdict, no click needed.
    const { VisualInspectionSDK } = await import('@kensa/sdk');
    const sdk = new VisualInspectionSDK({ apiUrl: `${baseUrl}/api`, ...CLIENT });
    await goto('#/items?tab=predict');
    await page.locator('.item-card').first().waitFor();
    const liveFile = join(filesDir, 'live-from-the-line.jpg');
    await copyFile((await images('test/good', 1))[0], liveFile);
    const uploaded = await sdk.upload([liveFile]);
    await sdk.serve(uploaded.item_ids);
    await page.locator('[data-item-id="live-from-the-line"]:not([data-verdict="pending"])').waitFor({ timeout: 60_000 });
  });

  test('Japanese: every label of the shell and the server errors are in Japanese', async () => {
    await page.getByTestId('language').selectOption('ja');
    await page.locator('[data-nav="items"]').getByText('アイテム').waitFor();
    for (const nav of ['items', 'train', 'models', 'predict', 'review', 'dashboard']) {
      assert.match((await page.locator(`[data-nav="${nav}"]`).textContent()) ?? '', JAPANESE, `nav ${nav}`);
    }
    await goto('#/items?tab=training');
    await page.locator('.item-card').first().waitFor();
    await shot('11-items-ja');
    // Texts the server writes (algorithm descriptions) follow the language too.
    await goto('#/train');
    await page.locator('[data-algorithm="PM"]').waitFor();
    assert.match((await page.locator('[data-algorithm="PM"]').textContent()) ?? '', JAPANESE);
    await shot('11c-train-ja');
    for (const [hash, ready, name] of [['#/dashboard', 'summary-table', '11d-dashboard-ja'], ['#/models', 'model-list', '11e-models-ja']]) {
      await goto(hash);
      await page.getByTestId(ready).waitFor();
      assert.match((await page.locator('h1').textContent()) ?? '', JAPANESE);
      await shot(name);
    }
    // An API error in the chosen language: the server's own Japanese title.
    await page.getByRole('button', { name: 'サインアウト' }).click();
    await page.getByLabel('クライアントID').fill(CLIENT.clientId);
    await page.getByLabel('クライアントシークレット').fill('wrong');
    await page.getByRole('button', { name: 'サインイン' }).click();
    const error = await page.getByRole('alert').textContent();
    assert.match(error ?? '', JAPANESE, `the error is Japanese: ${error}`);
    await shot('12-sign-in-error-ja');
  });

  test('an ended session sends the person back to sign in, saying why', async () => {
    await page.evaluate(() => {
      const stored = JSON.parse(sessionStorage.getItem('kensa.session')!);
      sessionStorage.setItem('kensa.session', JSON.stringify({ ...stored, accessToken: 'expired-or-forged' }));
    });
    await page.reload();
    await page.locator('.sign-in .notice-info').waitFor();
    assert.match((await page.locator('.sign-in .notice-info').textContent()) ?? '', JAPANESE);
  });

  test('tablet portrait: items and an item are usable without sideways scrolling', async () => {
    await page.getByLabel('クライアントID').fill(CLIENT.clientId);
    await page.getByLabel('クライアントシークレット').fill(CLIENT.clientSecret);
    await page.getByRole('button', { name: 'サインイン' }).click();
    await page.locator('.mainnav').waitFor();
    await page.setViewportSize({ width: 768, height: 1024 });
    await goto('#/items?tab=predict');
    await page.locator('.item-card img.thumb').first().waitFor();
    await assertNoHorizontalOverflow('tablet items');
    await shot('13-tablet-items');
    await goto(`#/item/${encodeURIComponent(LONG_ID)}`);
    await page.locator('.stage-image').first().waitFor();
    await assertNoHorizontalOverflow('tablet item detail');
    await shot('14-tablet-item');
    for (const [hash, ready, name] of [['#/train', '[data-algorithm="PM"]', '15-tablet-train'], ['#/dashboard', '[data-testid="summary-table"]', '16-tablet-dashboard']]) {
      await goto(hash);
      await page.locator(ready).waitFor();
      await assertNoHorizontalOverflow(name);
      await shot(name);
    }
  });

  test('an empty installation offers the sample project: progress, then the verdicts with links to the items', async () => {
    await page.setViewportSize({ width: 1366, height: 768 });
    await page.evaluate(() => sessionStorage.clear());
    await page.reload();
    await page.getByLabel('クライアントID').fill(SAMPLE_CLIENT.clientId);
    await page.getByLabel('クライアントシークレット').fill(SAMPLE_CLIENT.clientSecret);
    await page.getByRole('button', { name: 'サインイン' }).click();
    await page.locator('.mainnav').waitFor();
    await goto('#/items'); // the previous test left the address on another page
    // Kept quick: the button asks for the photos' own size; the request is sent with a small working size instead.
    await page.route('**/api/v1/samples', (route) => route.request().method() === 'POST'
      ? route.continue({ postData: JSON.stringify({ working_size: 160 }) })
      : route.continue());
    await page.getByTestId('load-sample-project').click();
    await page.getByTestId('sample-progress').waitFor();
    await shot('17-sample-project-progress');
    await page.getByTestId('sample-results').waitFor({ timeout: 180_000 });
    await shot('18-sample-project-results');
    const summary = (await page.getByTestId('sample-results').locator('p').textContent()) ?? '';
    const [defective, found] = [...summary.matchAll(/(\d+)/g)].map((m) => Number(m[1]));
    assert.equal(defective, 6, summary);
    assert.ok(found >= 3, `most defects found: ${summary}`);
    const links = page.getByTestId('sample-results').locator('a');
    assert.equal(await links.count(), 12, 'one link per held-back image');
    // The UI switched to the sample's product line: its items and its model are listed there.
    await page.waitForFunction(() => document.querySelector<HTMLSelectElement>('[data-testid="target"]')?.selectedOptions[0]?.textContent?.startsWith('Kensa demo'));
    await page.locator('[data-testid="item-grid"] .item-card').first().waitFor();
    const sampleTraining = Number(await page.locator('[data-tab="training"] .count').textContent());
    assert.ok(sampleTraining > 0, 'the sample training items are listed');
    await goto('#/items?tab=predict');
    await page.waitForFunction(() => document.querySelector('[data-tab="predict"] .count')?.textContent === '12');
    await page.locator('.item-card:not([data-verdict="pending"]) img.thumb').first().waitFor();
    await shot('18a-sample-project-items');
    await goto('#/models');
    await page.locator('[data-model-id]').first().waitFor();
    await shot('18b-sample-project-model');
    await goto('#/items?tab=predict');
    await links.filter({ hasText: 'scratch' }).first().click();
    await page.locator('.stage-image').first().waitFor();
    assert.match((await page.locator('h1').textContent()) ?? '', /scratch/);
  });

  test('the whole run, the docs and the API explorer worked under the Content-Security-Policy: Chromium refused nothing', async () => {
    const answer = await page.goto(`${baseUrl}/docs/`);
    assert.match(answer?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
    await page.locator('main h1').first().waitFor();
    await page.goto(`${baseUrl}/api/docs/`);
    await page.locator('.swagger-ui .info').waitFor();
    assert.deepEqual(cspViolations, []);
  });
});
