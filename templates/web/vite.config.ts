import react from '@vitejs/plugin-react';
import vike from 'vike/plugin';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [vike(), react()],
  // Source maps only when the build runs under V8 coverage (helfy's `npm test`), so the server
  // bundle's coverage maps back to pages/, components/ and server/; none in a normal build.
  build: { sourcemap: Boolean(process.env.NODE_V8_COVERAGE) },
});
