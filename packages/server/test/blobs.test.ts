/** The blob stores: one contract run against a folder and against S3 (s3rver), then what only S3 has (its cache). */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { BlobCache, CacheHold } from '../src/store/blobs/blob-cache.ts';
import { BlobNotFoundError, type BlobStore, type BlobStoreOptions } from '../src/store/blobs/blob-store.ts';
import { openBlobStore } from '../src/store/blobs/open-blob-store.ts';
import { FileBlobStore } from '../src/store/blobs/file-blob-store.ts';
import { S3BlobStore } from '../src/store/blobs/s3-blob-store.ts';
import { startS3Server, type TestS3Server } from './s3-server.ts';

const temporaryFolder = (name: string) => mkdtempSync(join(tmpdir(), `kensa-blobs-${name}-`));

/** Every byte value, then random bytes: a text decoding or a truncation anywhere shows. */
function binary(size: number): Buffer {
  const bytes = randomBytes(size);
  for (let i = 0; i < Math.min(256, size); i++) bytes[i] = i;
  return bytes;
}

async function keysOf(store: BlobStore, prefix: string): Promise<string[]> {
  const keys = [];
  for await (const entry of store.list(prefix)) keys.push(entry.key);
  return keys;
}

async function putAll(store: BlobStore, keys: string[], bytes: (key: string) => Uint8Array = (key) => Buffer.from(key)): Promise<void> {
  const queue = [...keys];
  await Promise.all(Array.from({ length: 16 }, async () => {
    for (let key = queue.shift(); key !== undefined; key = queue.shift()) await store.put(key, bytes(key));
  }));
}

interface Backend {
  name: string;
  /** A fresh, empty store; `listPageSize` small so that listing crosses pages. */
  open(options?: Partial<BlobStoreOptions>): Promise<BlobStore>;
  setUp?(): Promise<void>;
  tearDown?(): Promise<void>;
}

let s3: TestS3Server;
const folders: string[] = [];
let storeCount = 0;

const backends: Backend[] = [
  {
    name: 'file store',
    open: async (options) => {
      const folder = temporaryFolder('file');
      folders.push(folder);
      return openBlobStore(pathToFileURL(folder).href, { cacheDir: join(folder, 'unused-cache'), ...options });
    },
  },
  {
    name: 'S3 store',
    setUp: async () => { s3 = await startS3Server(); },
    tearDown: async () => { await s3.close(); },
    open: async (options) => {
      const cacheDir = temporaryFolder('cache');
      folders.push(cacheDir);
      // Each store gets its own key prefix in the one bucket, so tests never see each other's blobs.
      const url = s3.url.replace('s3://kensa-test?', `s3://kensa-test/store-${++storeCount}?`);
      return openBlobStore(url, { cacheDir, listPageSize: 3, ...options });
    },
  },
];

after(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

for (const backend of backends) {
  describe(backend.name, () => {
    let store: BlobStore;
    before(async () => {
      await backend.setUp?.();
      store = await backend.open();
    });
    after(async () => {
      await store.close();
      await backend.tearDown?.();
    });

    test('put then get returns the same bytes; exists follows', async () => {
      const bytes = binary(300_000);
      assert.equal(await store.exists('images/a/1.png'), false);
      await store.put('images/a/1.png', bytes);
      assert.ok((await store.get('images/a/1.png')).equals(bytes));
      assert.equal(await store.exists('images/a/1.png'), true);
      assert.equal(await store.exists('images/a'), false, 'a folder is not a blob');
      const empty = new Uint8Array(0);
      await store.put('images/a/empty.bin', empty);
      assert.equal((await store.get('images/a/empty.bin')).length, 0);
    });

    test('a second put replaces the blob', async () => {
      await store.put('models/7/model.json', Buffer.from('{"version":1}'));
      await store.put('models/7/model.json', Buffer.from('{"version":2}'));
      assert.equal((await store.get('models/7/model.json')).toString(), '{"version":2}');
    });

    test('a missing blob: get and localPath throw BlobNotFoundError naming the key', async () => {
      await assert.rejects(store.get('images/none/1.png'), (error: unknown) => error instanceof BlobNotFoundError && error.key === 'images/none/1.png' && /images\/none\/1\.png/.test(error.message));
      await assert.rejects(store.localPath('images/none/1.png'), BlobNotFoundError);
    });

    test('remove deletes one blob and leaves its neighbours; removing a missing blob is fine', async () => {
      await putAll(store, ['results/r/1.png', 'results/r/2.png']);
      await store.remove('results/r/1.png');
      assert.equal(await store.exists('results/r/1.png'), false);
      await assert.rejects(store.get('results/r/1.png'), BlobNotFoundError);
      assert.equal((await store.get('results/r/2.png')).toString(), 'results/r/2.png');
      await store.remove('results/r/1.png');
      await store.remove('results/never/there.png');
      await store.remove('results/r/2.png');
      assert.deepEqual(await keysOf(store, 'results'), []);
    });

    test('removePrefix removes a folder, nested ones included, and nothing beside it', async () => {
      const inside = Array.from({ length: 25 }, (_, i) => `images/client-a/item-${i % 5}/${i}.png`);
      const beside = ['images/client-ab/item/1.png', 'images/client-a.png', 'images/client/1.png'];
      await putAll(store, [...inside, ...beside]);
      await store.removePrefix('images/client-a');
      for (const key of inside) assert.equal(await store.exists(key), false, key);
      for (const key of beside) assert.equal(await store.exists(key), true, key);
      await store.removePrefix('images/client-a/'); // nothing left: fine
      await assert.rejects(store.removePrefix(''), /will not remove everything/);
      await store.removePrefix('images');
      assert.deepEqual(await keysOf(store, 'images'), []);
    });

    test('list gives every key under a folder with its size, across pages, in key order', async () => {
      const keys = Array.from({ length: 11 }, (_, i) => `list/x/${String(i).padStart(2, '0')}.bin`);
      const other = ['list/x-y/1.bin', 'list/w.bin', 'listing/1.bin'];
      await putAll(store, [...keys, ...other], (key) => new Uint8Array(key.length * 3));
      const entries = [];
      for await (const entry of store.list('list/x')) entries.push(entry);
      assert.deepEqual(entries, keys.map((key) => ({ key, size: key.length * 3 })));
      assert.deepEqual(await keysOf(store, 'list/'), [...other.slice(0, 2), ...keys].sort());
      const everything = await keysOf(store, '');
      assert.deepEqual(everything.filter((key) => key.startsWith('list')), [...keys, ...other].sort());
      assert.deepEqual(await keysOf(store, 'list/nothing'), []);
    });

    test('localPath is a readable file with the blob\'s bytes', async () => {
      const bytes = binary(50_000);
      await store.put('models/9/weights.bin', bytes);
      const path = await store.localPath('models/9/weights.bin');
      assert.ok(readFileSync(path).equals(bytes));
    });

    test('putFile stores a local file and takes it', async () => {
      const folder = temporaryFolder('put-file');
      folders.push(folder);
      const local = join(folder, 'model.kensa');
      const bytes = binary(120_000);
      writeFileSync(local, bytes);
      await store.putFile('models/10/model.kensa', local);
      assert.ok((await store.get('models/10/model.kensa')).equals(bytes));
      assert.ok(readFileSync(await store.localPath('models/10/model.kensa')).equals(bytes));
      assert.equal(existsSync(local), false, 'the local file was moved or deleted');
    });

    test('readers never see part of a blob while it is replaced', async () => {
      const size = 2_000_000;
      const versions = [Buffer.alloc(size, 'a'), Buffer.alloc(size, 'b')];
      await store.put('images/atomic/1.png', versions[0]);
      let writing = true;
      const writer = (async () => {
        for (let i = 1; i <= 12; i++) await store.put('images/atomic/1.png', versions[i % 2]);
        writing = false;
      })();
      let reads = 0;
      while (writing) {
        const bytes = await store.get('images/atomic/1.png');
        assert.equal(bytes.length, size);
        assert.ok(bytes.equals(versions[0]) || bytes.equals(versions[1]), 'one whole version');
        reads++;
      }
      await writer;
      assert.ok(reads > 0);
    });

    test('bad keys are refused with a message that says why', async () => {
      const bad: [string, RegExp][] = [
        ['', /empty/],
        ['/images/a.png', /must not start with "\/"/],
        ['images//a.png', /empty segment/],
        ['images/a/', /empty segment/],
        ['images/../keys/secret.pem', /"\.\." segments/],
        ['..', /"\.\." segments/],
        ['images/./a.png', /"\." segments/],
        ['images/a\u0000.png', /control characters/],
        ['images\\a.png', /not "\\"/],
        ['x'.repeat(1001), /longer than 1000 bytes/],
      ];
      for (const [key, reason] of bad) {
        for (const attempt of [() => store.put(key, Buffer.from('x')), () => store.get(key), () => store.exists(key), () => store.remove(key), () => store.localPath(key)]) {
          await assert.rejects(attempt(), (error: Error) => error.name === 'InvalidBlobKeyError' && /^invalid blob key /.test(error.message) && reason.test(error.message), `${JSON.stringify(key.slice(0, 20))} → ${reason}`);
        }
      }
      await assert.rejects(store.removePrefix('../x'), /"\.\." segments/);
      await assert.rejects(keysOf(store, '/images'), /must not start with "\/"/);
    });
  });
}

describe('the file store', () => {
  test('writes through a temporary folder that list never shows and keys cannot reach', async () => {
    const folder = temporaryFolder('file-layout');
    folders.push(folder);
    const store = new FileBlobStore(folder);
    await store.put('images/c/1.png', Buffer.from('one'));
    assert.equal(readFileSync(join(folder, 'images/c/1.png'), 'utf8'), 'one', 'the key is the relative path');
    writeFileSync(join(folder, '.partial', 'left-by-a-crash'), 'half');
    assert.deepEqual(await keysOf(store, ''), ['images/c/1.png']);
    await assert.rejects(store.put('.partial/x', Buffer.from('x')), /reserved by the file store/);
    await store.removeTemporaryFiles();
    assert.deepEqual(readdirSync(join(folder, '.partial')), []);
    await store.remove('images/c/1.png');
    assert.deepEqual(readdirSync(folder), ['.partial'], 'emptied folders go with their last blob');
  });
});

describe('the S3 store', () => {
  let server: TestS3Server;
  const open = (options: Partial<BlobStoreOptions> = {}) => {
    const cacheDir = temporaryFolder('s3-cache');
    folders.push(cacheDir);
    const url = server.url.replace('s3://kensa-test?', `s3://kensa-test/s3-only-${++storeCount}?`);
    return openBlobStore(url, { cacheDir, ...options }) as S3BlobStore;
  };
  before(async () => { server = await startS3Server(); });
  after(() => server.close());

  test('concurrent localPath calls for one key download it once', async () => {
    const store = open();
    const bytes = binary(1_000_000);
    await store.put('models/1/model.bin', bytes);
    const paths = await Promise.all(Array.from({ length: 8 }, () => store.localPath('models/1/model.bin')));
    assert.equal(new Set(paths).size, 1);
    assert.ok(readFileSync(paths[0]).equals(bytes));
    assert.equal(store.cacheStats().downloads, 1);
    await store.localPath('models/1/model.bin');
    assert.deepEqual([store.cacheStats().downloads, store.cacheStats().hits], [1, 1], 'a later call is a hit');
    await store.close();
  });

  test('the cache stays within its bound, evicting the least recently used file', async () => {
    const store = open({ cacheBytes: 250_000 });
    await putAll(store, ['c/1', 'c/2', 'c/3'], () => new Uint8Array(100_000));
    const first = await store.localPath('c/1');
    const second = await store.localPath('c/2');
    await store.localPath('c/1'); // now c/2 is the least recently used
    const third = await store.localPath('c/3');
    assert.equal(existsSync(second), false, 'c/2 was evicted');
    assert.equal(existsSync(first) && existsSync(third), true);
    const { downloads, evictions, files, bytes } = store.cacheStats();
    assert.deepEqual({ downloads, evictions, files, bytes }, { downloads: 3, evictions: 1, files: 2, bytes: 200_000 });
    assert.equal((await store.get('c/2')).length, 100_000, 'eviction only drops the local copy');
    assert.equal(readFileSync(await store.localPath('c/2')).length, 100_000, 'and it comes back on demand');
    await store.close();
  });

  test('a replaced or removed blob is not served from this store\'s cache', async () => {
    const store = open();
    await store.put('r/1', Buffer.from('old'));
    assert.equal(readFileSync(await store.localPath('r/1'), 'utf8'), 'old');
    await store.put('r/1', Buffer.from('new'));
    assert.equal(readFileSync(await store.localPath('r/1'), 'utf8'), 'new');
    await store.remove('r/1');
    await assert.rejects(store.localPath('r/1'), BlobNotFoundError);
    await store.close();
  });

  test('removePrefix deletes more than one DeleteObjects batch (1000 keys)', async () => {
    const store = open({ listPageSize: 1000 });
    const keys = Array.from({ length: 1005 }, (_, i) => `bulk/item/${i}`);
    await putAll(store, [...keys, 'bulk/kept']);
    await store.removePrefix('bulk/item');
    assert.deepEqual(await keysOf(store, 'bulk'), ['bulk/kept']);
    await store.close();
  });

  test('the URL works from another process (API servers and workers run apart)', async () => {
    const url = server.url.replace('s3://kensa-test?', 's3://kensa-test/other-process?');
    const cacheDir = temporaryFolder('other-process');
    folders.push(cacheDir);
    const store = openBlobStore(url, { cacheDir });
    await store.put('shared/1.png', Buffer.from('from the test process'));
    const script = `
      import { openBlobStore } from ${JSON.stringify(new URL('../src/store/blobs/open-blob-store.ts', import.meta.url).href)};
      const store = openBlobStore(process.env.KENSA_BLOB_URL, { cacheDir: process.env.CACHE_DIR });
      process.stdout.write((await store.get('shared/1.png')).toString());
      await store.put('shared/2.png', Buffer.from('from the other process'));
      await store.close();`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, KENSA_BLOB_URL: url, CACHE_DIR: join(cacheDir, 'other') },
    });
    assert.equal(stdout, 'from the test process');
    assert.equal((await store.get('shared/2.png')).toString(), 'from the other process');
    await store.close();
  });
});

describe('openBlobStore', () => {
  const options = { cacheDir: join(tmpdir(), 'kensa-blobs-never-created') };

  test('refuses URLs it cannot use, saying what it expects', () => {
    const refused: [string, RegExp][] = [
      ['', /not a URL/],
      ['data', /not a URL/],
      ['http://127.0.0.1:9000/bucket', /unsupported scheme "http:".*s3:\/\/bucket/],
      ['gs://bucket', /unsupported scheme "gs:"/],
      ['file://data/blobs', /absolute path, file:\/\/\/folder/],
      ['file:./data/blobs', /absolute path, file:\/\/\/folder/],
      ['file:///', /needs a folder/],
      ['file:///srv/blobs?mode=fast', /takes no parameters/],
      ['s3://', /is not a bucket name/],
      ['s3://My_Bucket', /is not a bucket name/],
      ['s3://bucket:9000', /endpoint parameter/],
      ['s3://bucket?endpoint=127.0.0.1:9000', /endpoint must be http\(s\):\/\/host\[:port\]/],
      ['s3://bucket?endpont=http://127.0.0.1:9000', /unknown parameter "endpont" \(known: endpoint, /],
      ['s3://bucket?forcePathStyle=yes', /forcePathStyle must be true or false/],
      ['s3://bucket?accessKeyId=AKIA', /give both accessKeyId and secretAccessKey/],
      ['s3://bucket/a//b', /empty, "\." or "\.\." segment/],
      ['s3://bucket?cacheMB=0', /cacheMB must be a positive number of megabytes, not "0"/],
      ['s3://bucket?cacheMB=lots', /cacheMB must be a positive number/],
    ];
    for (const [url, reason] of refused) assert.throws(() => openBlobStore(url, options), reason, url);
  });

  test('opens a folder from a file URL, and S3 with its settings; url hides the credentials', async () => {
    const folder = temporaryFolder('open');
    folders.push(folder);
    const file = openBlobStore(pathToFileURL(folder).href, options);
    assert.ok(file instanceof FileBlobStore);
    assert.equal((file as FileBlobStore).root, folder);

    const cacheDir = temporaryFolder('open-cache');
    folders.push(cacheDir);
    const s3Store = openBlobStore('s3://kensa-blobs/plant-1?endpoint=http://127.0.0.1:9&region=eu-west-1&forcePathStyle=true&accessKeyId=AKIAEXAMPLE&secretAccessKey=very-secret', { cacheDir });
    assert.ok(s3Store instanceof S3BlobStore);
    assert.ok(!s3Store.url.includes('very-secret') && !s3Store.url.includes('AKIAEXAMPLE'), s3Store.url);
    assert.equal(s3Store.url, 's3://kensa-blobs/plant-1?endpoint=http://127.0.0.1:9&region=eu-west-1&forcePathStyle=true');
    await s3Store.close();
    assert.throws(() => openBlobStore('s3://kensa-blobs', { cacheDir, listPageSize: 5000 }), /listPageSize must be an integer from 1 to 1000/);
  });
});

describe('the blob cache', () => {
  const slowDownload = (bytes: Uint8Array, counter: { calls: number }) => async (path: string) => {
    counter.calls++;
    await new Promise((resolve) => setTimeout(resolve, 30));
    writeFileSync(path, bytes);
  };

  test('one download for concurrent callers; a failed download leaves nothing and the next call retries', async () => {
    const dir = temporaryFolder('cache-unit');
    folders.push(dir);
    const cache = new BlobCache(dir, 1_000_000);
    const counter = { calls: 0 };
    const paths = await Promise.all(Array.from({ length: 5 }, () => cache.get('x|models/1.bin', slowDownload(Buffer.from('model'), counter))));
    assert.equal(counter.calls, 1);
    assert.equal(new Set(paths).size, 1);
    assert.match(paths[0], /\.bin$/, 'the extension stays');

    const failing = async (path: string) => {
      writeFileSync(path, 'half');
      throw new Error('connection reset');
    };
    await assert.rejects(Promise.all([cache.get('x|2.bin', failing), cache.get('x|2.bin', failing)]), /connection reset/);
    assert.deepEqual(readdirSync(dir), [paths[0].slice(dir.length + 1)], 'no partial file left');
    assert.equal(readFileSync(await cache.get('x|2.bin', slowDownload(Buffer.from('whole'), counter)), 'utf8'), 'whole');
  });

  test('held files stay past the bound until their hold is released; then the least recently used go', async () => {
    const dir = temporaryFolder('cache-hold');
    folders.push(dir);
    const counter = { calls: 0 };
    const cache = new BlobCache(dir, 250);
    const hold = new CacheHold();
    const held = [];
    for (const id of ['x|a', 'x|b']) held.push(await cache.get(id, slowDownload(new Uint8Array(100), counter), hold));
    const others = [];
    for (const id of ['x|c', 'x|d', 'x|e']) others.push(await cache.get(id, slowDownload(new Uint8Array(100), counter)));
    assert.deepEqual(held.map(existsSync), [true, true], 'a training still reading them keeps them');
    assert.deepEqual(others.map(existsSync), [false, false, true], 'the unheld ones were evicted to make room');
    assert.equal(cache.stats().bytes, 300, 'past the bound while held');
    await cache.release(hold);
    assert.equal(cache.stats().bytes, 200, 'back within it after release');
    assert.deepEqual([...held, others[2]].map(existsSync), [false, true, true], 'the least recently used went first');
    assert.equal(counter.calls, 5);
  });

  test('after a restart it keeps earlier downloads, drops partial files, and still keeps to its bound', async () => {
    const dir = temporaryFolder('cache-restart');
    folders.push(dir);
    const counter = { calls: 0 };
    const first = new BlobCache(dir, 300);
    const kept = await first.get('x|a', slowDownload(new Uint8Array(100), counter));
    await first.get('x|b', slowDownload(new Uint8Array(100), counter));
    writeFileSync(join(dir, 'deadbeef.partial'), 'half');

    const second = new BlobCache(dir, 300);
    assert.deepEqual({ files: second.stats().files, bytes: second.stats().bytes }, { files: 2, bytes: 200 });
    assert.equal(existsSync(join(dir, 'deadbeef.partial')), false);
    assert.equal(await second.get('x|a', () => assert.fail('downloaded again')), kept);
    await second.get('x|c', slowDownload(new Uint8Array(100), counter));
    await second.get('x|d', slowDownload(new Uint8Array(100), counter));
    assert.equal(second.stats().bytes, 300);
    assert.equal(existsSync(kept), true, 'a was used after b, so b went first');
  });
});
