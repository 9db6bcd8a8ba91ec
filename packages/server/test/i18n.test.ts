import assert from 'node:assert/strict';
import { test } from 'node:test';
import { en } from '../src/i18n/en.ts';
import { ja } from '../src/i18n/ja.ts';
import { ParameterError, parseParamValue, type ParameterSpec } from '@kensa/engine';
import { parameterReason } from '../src/http/validation.ts';
import { languageOf, render, translate } from '../src/i18n/index.ts';
import { detailOfProblem, statusOfStage } from '../src/i18n/training.ts';

test('Accept-Language picks Japanese only when it ranks above English', () => {
  assert.equal(languageOf(undefined), 'en');
  assert.equal(languageOf('ja'), 'ja');
  assert.equal(languageOf('ja-JP,ja;q=0.9,en;q=0.8'), 'ja');
  assert.equal(languageOf('en-US,en;q=0.9,ja;q=0.8'), 'en');
  assert.equal(languageOf('fr, ja;q=0.5'), 'ja');
  assert.equal(languageOf('de'), 'en');
  assert.equal(languageOf('ja;q=0'), 'en');
});

test('both catalogues hold the same keys and the same {marks}; Japanese texts are translated', () => {
  assert.deepEqual(Object.keys(ja).sort(), Object.keys(en).sort());
  const marks = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
  for (const key of Object.keys(en) as (keyof typeof en)[]) {
    assert.deepEqual(marks(ja[key]), marks(en[key]), key);
    // '{text}' passes a text through; '' is the original's empty title (DELETE /model's 404).
    if (en[key] !== '{text}' && en[key] !== '') assert.notEqual(ja[key], en[key], `${key} is not translated`);
  }
});

test('messages nest: a reason inside a detail is translated too', () => {
  const params = { name: 'a.png', reason: { key: 'reasonEmpty' as const } };
  assert.equal(translate('en', 'invalidFilenameBecause', params), 'Invalid filename a.png: the file is empty');
  assert.equal(translate('ja', 'invalidFilenameBecause', params), '不正なファイル名 a.png: ファイルが空です');
});

test("the engine's training stages and training-data problems have words in both languages, their values in place", () => {
  const tuning = statusOfStage('tuning', { parameter: 'working_size', candidate: '64' });
  assert.equal(render('en', tuning), 'AutoTune: trying working_size = 64');
  assert.equal(render('ja', tuning), 'AutoTune: working_size = 64 を試しています');
  assert.equal(render('ja', statusOfStage('epoch', { epoch: 3, epochs: 30, loss: '0.0100', heldOutLoss: '0.0200' })), 'エポック 3/30: 損失 0.0100、検証 0.0200');
  assert.equal(render('en', statusOfStage('growing-trees')), 'Growing trees');
  // A stage of another version's worker shows its id rather than failing.
  assert.equal(render('ja', statusOfStage('polishing' as never)), 'polishing');
  const tooFew = detailOfProblem('PS', { code: 'too-few-ok-images', needed: 2, got: 1 });
  assert.equal(render('en', tooFew), 'PS needs at least 2 OK images; got 1');
  assert.equal(render('ja', tooFew), 'PS の学習には OK 画像が 2 枚以上必要です（1 枚）');
});

test("the engine's parameter problems are data, worded in both languages with their values", () => {
  const spec = { id: 1, name: 'working_size', type: 'int', default: 256, min: 32, max: 4096 } as ParameterSpec;
  const problemOf = (raw: unknown) => {
    try {
      parseParamValue(spec as ParameterSpec, raw);
    } catch (error) {
      assert.ok(error instanceof ParameterError);
      return error.problem;
    }
    assert.fail(`${String(raw)} was accepted`);
  };
  assert.deepEqual(problemOf('8'), { kind: 'below', limit: 32 });
  assert.equal(render('en', parameterReason(problemOf('8'))), 'must be ≥ 32');
  assert.equal(render('ja', parameterReason(problemOf('9000'))), '4096 以下でなければなりません');
  assert.equal(render('en', parameterReason(problemOf('64.5'))), 'must be an integer');
  assert.equal(render('en', parameterReason({ kind: 'oneOf', values: ['a', 'b'] })), 'must be one of a, b');
});
