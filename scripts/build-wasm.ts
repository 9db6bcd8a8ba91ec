#!/usr/bin/env node
/**
 * Assembles the engine's WebAssembly kernels from their text sources (`*.wat` beside them) with wabt, into a
 * TypeScript module holding the binary in base64 (`*.wasm.ts`), so that the engine loads them on any thread without
 * reading files. `packages/engine/test/row-products.test.ts` fails when a committed binary differs from its source.
 *
 *   node --import tsx scripts/build-wasm.ts           # rewrite the *.wasm.ts modules
 *   node --import tsx scripts/build-wasm.ts --check   # exit 1 if one is stale
 */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import wabt from 'wabt';

const KERNELS_DIR = resolve(import.meta.dirname, '../packages/engine/src/kernels');
/** Each kernel: its text source and the module written from it (exporting `<name>` as base64). */
export const WASM_KERNELS = [
  { source: resolve(KERNELS_DIR, 'row-products.wat'), module: resolve(KERNELS_DIR, 'row-products.wasm.ts'), name: 'ROW_PRODUCTS_WASM' },
  { source: resolve(KERNELS_DIR, 'knn-scan.wat'), module: resolve(KERNELS_DIR, 'knn-scan.wasm.ts'), name: 'KNN_SCAN_WASM' },
];

/** The TypeScript module for one kernel's text source. */
export async function renderWasmModule(kernel: (typeof WASM_KERNELS)[number]): Promise<string> {
  const text = await readFile(kernel.source, 'utf8');
  const assembler = await wabt();
  const parsed = assembler.parseWat(kernel.source, text, { simd: true });
  try {
    parsed.validate();
    const { buffer } = parsed.toBinary({ canonicalize_lebs: true });
    const base64 = Buffer.from(buffer).toString('base64');
    const lines = base64.match(/.{1,100}/g) ?? [];
    return `// Written by scripts/build-wasm.ts from ${kernel.source.split('/').pop()}; do not edit.\n`
      + `export const ${kernel.name} =\n${lines.map((line) => `  '${line}'`).join(' +\n')};\n`;
  } finally {
    parsed.destroy();
  }
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const kernel of WASM_KERNELS) {
    const rendered = await renderWasmModule(kernel);
    const committed = await readFile(kernel.module, 'utf8').catch(() => '');
    if (committed === rendered) continue;
    if (check) {
      console.error(`${kernel.module} is stale: run \`node --import tsx scripts/build-wasm.ts\``);
      stale++;
    } else {
      await writeFile(kernel.module, rendered);
      console.log(`wrote ${kernel.module}`);
    }
  }
  if (stale) process.exit(1);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
