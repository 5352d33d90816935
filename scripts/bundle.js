#!/usr/bin/env node
// After tsc: bundle the CLI's compiled JS into one file. A Node 20 start
// pays ~1 ms per module file on a small VM; the bundle keeps a hook-only
// start near a bare `node` start (bench/README.md). It sits at the same
// depth as the other dist/ folders, so __dirname-relative paths (native
// addon, worker and vassal entry points) resolve the same. pino stays
// external: it is loaded only for log-format = json.
const esbuild = require('esbuild');
esbuild.buildSync({
  entryPoints: ['dist/cli/main.js'],
  outfile: 'dist/cli/main.bundle.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  external: ['pino'],
  logLevel: 'warning',
});
