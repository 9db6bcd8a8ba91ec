import { defineConfig } from 'vite';

// Preact's automatic JSX runtime through esbuild: no plugin needed.
// In development, `/api` is proxied to a running Kensa server (KENSA_API, default http://127.0.0.1:8080).
export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  base: './',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 600 },
  server: {
    proxy: { '/api': process.env.KENSA_API ?? 'http://127.0.0.1:8080' },
  },
});
