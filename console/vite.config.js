// Build of the admin console (docs/console.md): `vite build console` writes console/dist, which
// the admin listener serves. `base: './'` keeps every asset URL relative, so the console works
// under any path prefix; no CDN, no runtime request besides the admin API of its own origin.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
    chunkSizeWarningLimit: 200,
  },
});
