import assert from 'node:assert/strict';
import { it } from 'node:test';
import { VisualInspectionSDK } from '../src/index.ts';

it('normalises apiUrl to the API root', () => {
  const root = (apiUrl: string) => new VisualInspectionSDK({ apiUrl }).apiUrl;
  assert.equal(root('http://127.0.0.1:8080'), 'http://127.0.0.1:8080/api');
  assert.equal(root('http://127.0.0.1:8080/'), 'http://127.0.0.1:8080/api');
  assert.equal(root('http://127.0.0.1:8080/api/'), 'http://127.0.0.1:8080/api');
  assert.equal(root('https://factory.example/kensa/api'), 'https://factory.example/kensa/api');
  assert.equal(root('https://factory.example/kensa'), 'https://factory.example/kensa/api');
  assert.throws(() => root('/api'), /apiUrl must be an absolute URL/); // no page to be relative to in Node
});
