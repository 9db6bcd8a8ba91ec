/**
 * An S3-compatible server for tests: s3rver on 127.0.0.1, a free port, a temporary folder, one bucket.
 *
 * s3rver 3.7 falls short of S3 in three ways that our stores rely on, so the child process below corrects them
 * (node_modules stays untouched):
 * - it encrypts ListObjectsV2 continuation tokens with DES, which Node 17+ (OpenSSL 3) refuses: every listing
 *   longer than one page failed with InternalError. The child runs with --openssl-legacy-provider.
 * - it lists keys in folder-walk order, not key order, while its continuation tokens mean "after this key":
 *   "a/x-y/1" was skipped after a page ending in "a/x/0". The walk is replaced by one in key order.
 * - it writes an object in place, so a GET during a PUT returned part of the object. Writes go to a temporary
 *   file renamed into place, and a GET takes the length of the file it opened.
 * A separate process also keeps its HTTP work off the test's event loop, and serves other processes the same.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface TestS3Server {
  /** A KENSA_BLOB_URL: s3://bucket?endpoint=…&region=…&forcePathStyle=true&accessKeyId=…&secretAccessKey=… */
  url: string;
  /** http://127.0.0.1:port */
  endpoint: string;
  bucket: string;
  close(): Promise<void>;
}

/** s3rver checks signatures against this fixed account. */
const ACCESS_KEY = 'S3RVER';

const CHILD = String.raw`
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { Readable, Transform } = require('node:stream');
const { pipeline } = require('node:stream/promises');
const lib = path.join(process.env.S3RVER_ROOT, 'lib');

// Key order: a file "name._S3rver_object" holds key "…/name", a folder "name" holds keys "…/name/…".
const utils = require(path.join(lib, 'utils.js'));
const SUFFIX = /\._S3rver_.*$/;
utils.walk = function* walk(dir, recurseFilter) {
  // Entry types from readdir, not stat: a temporary file may be renamed away between the two.
  const children = fs.readdirSync(dir, { withFileTypes: true }).map((entry) => {
    const isDirectory = entry.isDirectory();
    return { name: entry.name, isDirectory, order: isDirectory ? entry.name + '/' : entry.name.replace(SUFFIX, '') };
  });
  children.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
  for (const { name, isDirectory } of children) {
    const filePath = path.posix.join(dir, name);
    if (!isDirectory) yield filePath;
    else if (!recurseFilter || recurseFilter(filePath)) yield* walk(filePath, recurseFilter);
  }
};
// Loaded after the patch, as it copies walk when it loads.
const Store = require(path.join(lib, 'stores', 'filesystem.js'));
const S3Object = require(path.join(lib, 'models', 'object.js'));

Store.prototype.putObject = async function putObject(object) {
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  await fs.promises.mkdir(path.dirname(objectPath), { recursive: true });
  const partial = objectPath + '.' + crypto.randomBytes(6).toString('hex') + '.partial';
  const md5 = crypto.createHash('md5');
  let size = 0;
  const measure = new Transform({ transform(chunk, encoding, done) { md5.update(chunk); size += chunk.length; done(null, chunk); } });
  const content = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
  await pipeline(content, measure, fs.createWriteStream(partial));
  const digest = md5.digest('hex');
  await this.putMetadata(object.bucket, object.key, object.metadata, digest);
  await fs.promises.rename(partial, objectPath);
  return { size, md5: digest };
};

const rangedGetObject = Store.prototype.getObject;
Store.prototype.getObject = async function getObject(bucket, key, options) {
  if (options && (options.start !== undefined || options.end)) return rangedGetObject.call(this, bucket, key, options);
  let handle;
  try {
    handle = await fs.promises.open(this.getResourcePath(bucket, key, 'object'));
    const { size } = await handle.stat();
    const metadata = await this.getMetadata(bucket, key);
    return new S3Object(bucket, key, handle.createReadStream(), { ...metadata, 'content-length': size });
  } catch (error) {
    await handle?.close();
    if (error.code === 'ENOENT') return null;
    throw error;
  }
};

const S3rver = require(process.env.S3RVER_ROOT);
const server = new S3rver({
  address: '127.0.0.1', port: 0, silent: true, directory: process.env.S3RVER_DIRECTORY,
  configureBuckets: [{ name: process.env.S3RVER_BUCKET }],
});
server.run().then((address) => process.stdout.write(JSON.stringify({ port: address.port }) + '\n'), (error) => {
  console.error(error);
  process.exit(1);
});
// The parent closes stdin to stop us, and so does its death: no server outlives its test.
process.stdin.resume();
process.stdin.on('end', () => server.close().finally(() => process.exit(0)));
`;

export async function startS3Server(options: { bucket?: string } = {}): Promise<TestS3Server> {
  const bucket = options.bucket ?? 'kensa-test';
  const directory = mkdtempSync(join(tmpdir(), 'kensa-s3rver-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', CHILD], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      ...process.env,
      NODE_OPTIONS: '', // the test runner's loaders are not needed for plain CommonJS
      S3RVER_ROOT: dirname(createRequire(import.meta.url).resolve('s3rver/package.json')),
      S3RVER_DIRECTORY: directory,
      S3RVER_BUCKET: bucket,
    },
  });
  let errors = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => { errors += text; });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (text: string) => {
        output += text;
        const line = output.split('\n')[0];
        if (output.includes('\n')) resolve(JSON.parse(line).port);
      });
      child.once('exit', (code) => reject(new Error(`s3rver exited (${code}) before listening: ${errors.trim()}`)));
      child.once('error', reject);
    });
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }

  const endpoint = `http://127.0.0.1:${port}`;
  const query = new URLSearchParams({ endpoint, region: 'us-east-1', forcePathStyle: 'true', accessKeyId: ACCESS_KEY, secretAccessKey: ACCESS_KEY });
  return {
    url: `s3://${bucket}?${query}`,
    endpoint,
    bucket,
    close: async () => {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
