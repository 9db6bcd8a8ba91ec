import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { ALGORITHMS } from '../src/algorithms/registry.ts';
import { GUIDE_FILES, renderAlgorithmGuide, suiteFiguresOf, type DocLanguage, type MeasuredFigures } from '../../../scripts/generate-docs.ts';

const LANGUAGES: DocLanguage[] = ['en', 'ja'];

test('the committed algorithm guides are what the parameter schemas generate', async () => {
  for (const language of LANGUAGES) {
    const committed = await readFile(GUIDE_FILES[language], 'utf8');
    const generated = renderAlgorithmGuide(language);
    if (committed === generated) continue;
    const a = committed.split('\n'), b = generated.split('\n');
    const line = a.findIndex((text, i) => text !== b[i]);
    assert.fail(`${GUIDE_FILES[language]} differs from the schemas at line ${line + 1}:\n  committed: ${a[line]}\n  generated: ${b[line]}\n`
      + 'Run `node --import tsx scripts/generate-docs.ts` and commit the result.');
  }
});

test('each guide lists every algorithm of the registry with every parameter, by name and id', () => {
  for (const language of LANGUAGES) {
    const guide = renderAlgorithmGuide(language);
    for (const algorithm of ALGORITHMS) {
      assert.ok(guide.includes(`\n## ${algorithm.id} — ${algorithm.name}\n`), `${language}: section of ${algorithm.id}`);
      assert.ok(guide.includes(algorithm.description[language]), `${language}: description of ${algorithm.id}`);
      const section = guide.slice(guide.indexOf(`\n## ${algorithm.id} — `));
      for (const spec of algorithm.parameters) {
        assert.ok(section.includes(`| \`${spec.name}\` | ${spec.id} |`), `${language}: ${algorithm.id} parameter ${spec.name} (${spec.id})`);
      }
    }
  }
});

test('a change in a schema changes the guide (the tables are read from the schemas, not written by hand)', () => {
  const pm = ALGORITHMS.find((a) => a.id === 'PM')!;
  const changed = {
    ...pm,
    parameters: pm.parameters.map((p) => (p.name === 'working_size' ? { ...p, default: 512, autoTune: [256, 512] } : p)),
  };
  const before = renderAlgorithmGuide('en', [pm]);
  const after = renderAlgorithmGuide('en', [changed]);
  const row = (text: string) => text.split('\n').find((l) => l.startsWith('| `working_size` |'));
  assert.notEqual(row(before), row(after));
  assert.match(row(after)!, /\| `512` \| `256`, `512` \|/);
});

test('measured figures show for the algorithm version they were measured on, and only for it', () => {
  const pm = ALGORITHMS.find((a) => a.id === 'PM')!;
  const figures = (version: number): MeasuredFigures => ({
    measured_on: '2026-01-01', engine_version: 'x', machine: '2 cores', seed: 1,
    counts: { trainGood: 24, testGood: 12, testPerDefect: 6 },
    results: [{
      product: 'metal', algorithm: 'PM', algorithm_version: version, image_auroc: 0.8771, pixel_auroc: 0.9,
      aupro: null, f1: 0.5, train_seconds: 2.25, infer_ms_per_image: 7.5,
    }],
  });
  const current = renderAlgorithmGuide('en', [pm], figures(pm.version));
  assert.match(current, /\| metal plates \| 0\.877 \| 0\.900 \| — \| 0\.500 \| 2\.3 \| 8 \|/);
  assert.match(current, /\| Pattern Matching \| unsupervised \| [^|]+ \| metal plates 0\.877 \|/);
  const stale = renderAlgorithmGuide('en', [pm], figures(pm.version - 1));
  assert.doesNotMatch(stale, /0\.877/);
  assert.match(stale, new RegExp(`Not measured yet for version ${pm.version} of PM`));
});

test('the development suite\'s table shows each set, the mean and the worst, for the version measured only', () => {
  const [pm, ps] = ['PM', 'PS'].map((id) => ALGORITHMS.find((a) => a.id === id)!);
  const result = (algorithm: string, dataset: string, image_auroc: number) => ({ algorithm, dataset, image_auroc, pixel_auroc: null, f1: 0.5 });
  // A bench run's output: progress lines, then the JSON last line.
  const output = `PS: training\n${JSON.stringify({ dataset: 'suite', results: [result('PM', 'tiles', 0.6), result('PM', 'boards', 0.9), result('PS', 'tiles', 0.8), result('PS', 'boards', 0.95)] })}\n`;
  const suite = suiteFiguresOf(output, 'abc1234', '2026-01-01');
  assert.deepEqual(suite.results.map((r) => r.algorithm_version), [pm.version, pm.version, ps.version, ps.version]);
  const guide = renderAlgorithmGuide('en', [pm, ps], null, suite);
  assert.match(guide, /measured on 2026-01-01 \(commit abc1234\)/);
  assert.match(guide, /\| algorithm \| boards \| tiles \| mean \| worst \|/);
  assert.match(guide, /\| PM \| 0\.900 \| 0\.600 \| 0\.750 \| 0\.600 \|/);
  assert.match(guide, /\| PS \| 0\.950 \| 0\.800 \| 0\.875 \| 0\.800 \|/);
  const stale = { ...suite, results: suite.results.map((r) => (r.algorithm === 'PS' ? { ...r, algorithm_version: ps.version - 1 } : r)) };
  assert.match(renderAlgorithmGuide('en', [pm, ps], null, stale), /\| PS \| — \| — \| — \| — \|/);
  assert.throws(() => suiteFiguresOf('no json here', 'abc1234', '2026-01-01'), /no bench result/);
});
