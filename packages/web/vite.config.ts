import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Hashed file names under /assets let the server cache them forever; index.html is never cached.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 900,
  },
  server: {
    // `npm run dev -w @cairn/web` against a server started with `npm start`.
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
