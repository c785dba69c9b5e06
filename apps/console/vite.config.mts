// The console is served by the OTAO server under /console/ (apps/server, OTAO_CONSOLE_ENABLED).
// Heavy pages and libraries (dagre, uPlot, oidc-client-ts) are split into lazy chunks.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: { outDir: 'dist', sourcemap: true, chunkSizeWarningLimit: 400 },
  server: { proxy: { '/api': 'http://127.0.0.1:8080', '/console/config.json': 'http://127.0.0.1:8080' } },
});
