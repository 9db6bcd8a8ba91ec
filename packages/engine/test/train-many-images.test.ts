// Training streams its images (issue 12, part 3): a factory's thousands of good images train in bounded memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sampleDataset } from './sample-datasets.ts';

/**
 * Small PS settings that keep the 5,000-image training to a couple of minutes: a 128-pixel working size, a bank of
 * 1,000 patches, placement fixed. Memory is what is tested, and it does not depend on these.
 */
const PARAMS = { working_size: 128, train_size: 1000, placement: 'free' };
/** The originals the copies are made from: the first 50 magnetic-tile training images. */
const BASES = 50;

async function peakOfTraining(images: number): Promise<{ peak_rss_mb: number; ok: number; held_out: number; seconds: number }> {
  const { stdout } = await promisify(execFile)(process.execPath, [
    '--import', 'tsx', `${import.meta.dirname}/train-copies.ts`, sampleDataset('magnetic-tile'), String(images), String(BASES), JSON.stringify(PARAMS),
  ], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

test('trainModel PS on 5,000 images peaks at most 1 GB, and not much above 500 images', async () => {
  const small = await peakOfTraining(500);
  const large = await peakOfTraining(5000);
  assert.equal(large.ok, 5000);
  assert.ok(large.peak_rss_mb <= 1024, `5,000 images peaked at ${large.peak_rss_mb.toFixed(0)} MB`);
  // Decoded up front, 4,500 more rasters of 128×128 would take 0.9 GB more. Streamed, only the cache of decoded pixels
  // grows (500 images fill 25 MB of its 128 MB, 5,000 all of it; a third of that if they are grey), and cross-fitting
  // maps 200 held-out OK images either way (500 before; measured then 378 and 505 MB).
  assert.ok(large.peak_rss_mb <= small.peak_rss_mb + 200, `5,000 images ${large.peak_rss_mb.toFixed(0)} MB, 500 images ${small.peak_rss_mb.toFixed(0)} MB`);
});
