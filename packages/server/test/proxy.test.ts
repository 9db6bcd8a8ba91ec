/** Behind a TLS load balancer (KENSA_TRUST_PROXY=1), image URLs in answers use the address clients used. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Api, cookie, startTestServer } from './helpers.ts';

test('with trustProxy, image URLs follow X-Forwarded-Proto and X-Forwarded-Host; without it they do not', async () => {
  for (const trustProxy of [true, false]) {
    const server = await startTestServer({ trustProxy });
    try {
      const api = await new Api(server.url).login('alice', 'alice-secret');
      const uploaded = await api.upload([cookie('train/good', 0)], { training: 'true', good: 'true' });
      const response = await fetch(`${server.url}/api/v1/item/${uploaded.body.data.item_ids[0]}`, {
        headers: { authorization: `Bearer ${api.token}`, 'x-forwarded-proto': 'https', 'x-forwarded-host': 'kensa.example.com' },
      });
      const rawUrl: string = (await response.json()).data.images[0].raw_url;
      if (trustProxy) assert.match(rawUrl, /^https:\/\/kensa\.example\.com\/api\/v1\/images\//);
      else assert.ok(rawUrl.startsWith(`${server.url}/api/v1/images/`), rawUrl);
    } finally {
      await server.dispose();
    }
  }
});
