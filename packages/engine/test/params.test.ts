import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeRange, formatParamValue, ParameterError, ParameterErrors, parseParamValue, resolveParams, type ParameterSpec } from '../src/params/schema.ts';
import { sharedParameters } from '../src/params/shared.ts';
import { ALGORITHMS } from '../src/algorithms/registry.ts';

const specs = sharedParameters(100, { min_inspection_size: [16, 16] });
const spec = (name: string): ParameterSpec => specs.find((s) => s.name === name)!;

function failsNaming(name: string, fn: () => unknown, pattern?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ParameterError, String(e));
    assert.equal(e.parameter, name);
    assert.ok(e.message.includes(name), e.message);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

test('tuples parse from the wire forms "[8, 8]", "(8,8)", JSON arrays and a single number', () => {
  const size = spec('min_inspection_size');
  for (const raw of ['[8, 8]', '(8,8)', ' ( 8 , 8 ) ', '8,8', [8, 8], ['8', '8'], 8]) {
    assert.deepEqual(parseParamValue(size, raw), [8, 8], JSON.stringify(raw));
  }
  assert.deepEqual(parseParamValue(spec('anomaly_range'), '[0.2, 0.9]'), [0.2, 0.9]);
});

test('bad values are refused with the parameter named', () => {
  const size = spec('min_inspection_size');
  failsNaming('min_inspection_size', () => parseParamValue(size, '[8]'), /2 values/);
  failsNaming('min_inspection_size', () => parseParamValue(size, '[8, 8, 8]'), /2 values/);
  failsNaming('min_inspection_size', () => parseParamValue(size, '[8, x]'), /number/);
  failsNaming('min_inspection_size', () => parseParamValue(size, '[8.5, 8]'), /integer/);
  failsNaming('min_inspection_size', () => parseParamValue(size, '[1, 8]'), /≥ 2/);
  failsNaming('min_inspection_size', () => parseParamValue(size, { w: 8 }), /tuple/);
  failsNaming('ignore_outer', () => parseParamValue(spec('ignore_outer'), [null, 8]), /number/);
  failsNaming('ignore_outer', () => parseParamValue(spec('ignore_outer'), [true, 8]), /number/);
  failsNaming('train_size', () => parseParamValue(spec('train_size'), 'lots'), /number/);
  failsNaming('train_size', () => parseParamValue(spec('train_size'), '12.5'), /integer/);
  failsNaming('train_size', () => parseParamValue(spec('train_size'), 0), /≥ 1/);
  failsNaming('train_size', () => parseParamValue(spec('train_size'), true), /number/);
  failsNaming('working_size', () => parseParamValue(spec('working_size'), '99999'), /≤ 4096/);
  failsNaming('working_size', () => parseParamValue(spec('working_size'), ''), /needs a value/);
  failsNaming('threshold', () => parseParamValue(spec('threshold'), 'NaN'), /number/);
  failsNaming('threshold', () => parseParamValue(spec('threshold'), -1), /≥ 0/);
});

test('numbers parse from strings; empty means "automatic" where the default is automatic', () => {
  assert.equal(parseParamValue(spec('train_size'), '500'), 500);
  assert.equal(parseParamValue(spec('threshold'), '0.25'), 0.25);
  for (const empty of [null, undefined, '', 'null', 'None']) assert.equal(parseParamValue(spec('threshold'), empty), null);
  const choice: ParameterSpec = { id: 1, name: 'kind', type: 'str', default: 'nmf', options: ['nmf', 'pca'], autoTune: null, modelParameter: true, description: { en: '', ja: '' } };
  assert.equal(parseParamValue(choice, 'pca'), 'pca');
  failsNaming('kind', () => parseParamValue(choice, 'svd'), /nmf, pca/);
});

test('resolveParams fills defaults and names every bad or unknown parameter at once', () => {
  const { values } = resolveParams(specs, { train_size: '20', ignore_outer: '(4, 2)' });
  assert.equal(values.train_size, 20);
  assert.deepEqual(values.ignore_outer, [4, 2]);
  assert.deepEqual(values.min_inspection_size, [16, 16]);
  assert.equal(values.threshold, null);
  assert.throws(() => resolveParams(specs, { train_size: 'x', min_inspection_size: '[3]', colour: 'red' }), (e: unknown) => {
    assert.ok(e instanceof ParameterErrors);
    assert.deepEqual(e.errors.map((x) => x.parameter).sort(), ['colour', 'min_inspection_size', 'train_size']);
    return true;
  });
  const tunable: ParameterSpec = { id: 9, name: 'n', type: 'int', default: 10, autoTune: [5, 10, 20], modelParameter: true, description: { en: '', ja: '' } };
  assert.deepEqual(resolveParams([tunable], {}).autoTune, ['n']);
  assert.deepEqual(resolveParams([tunable], { n: 5 }).autoTune, []);
});

test('wire formatting and ranges', () => {
  assert.equal(formatParamValue([8, 8]), '[8, 8]');
  assert.equal(formatParamValue(null), null);
  assert.equal(formatParamValue(0.5), '0.5');
  assert.equal(describeRange(spec('train_size')), 'int in [1, 1000000]');
  assert.equal(describeRange(spec('min_inspection_size')), '(int, int), each in [2, 256]');
  assert.equal(describeRange(spec('threshold')), 'float in [0, ∞)');
});

test('every algorithm has unique parameter ids and names, and defaults that pass their own checks', () => {
  const ids = new Set<number>();
  for (const algorithm of ALGORITHMS) {
    const names = new Set<string>();
    for (const p of algorithm.parameters) {
      assert.ok(!ids.has(p.id), `${algorithm.id}: id ${p.id} reused`);
      assert.ok(!names.has(p.name), `${algorithm.id}: ${p.name} twice`);
      ids.add(p.id);
      names.add(p.name);
      if (p.default !== null) assert.deepEqual(parseParamValue(p, p.default), p.default, `${algorithm.id}.${p.name}`);
      for (const candidate of p.autoTune ?? []) parseParamValue(p, candidate);
    }
  }
});
