#!/usr/bin/env node
// After tsc: bundle the CLI's compiled JS into one file. A Node 20 start
// pays ~1 ms per module file on a small VM; the bundle keeps a hook-only
// start near a bare `node` start (bench/README.md). It sits at the same
// depth as the other dist/ folders, so __dirname-relative paths (native
// addon, worker and vassal entry points) resolve the same. pino stays
// external: it is loaded only for log-format = json; node-pty (a native
// addon) only for attach-daemon-pty and liege attach; etcd3 (with gRPC)
// only by the etcd emperor and `liege etcd`.
const esbuild = require('esbuild');
esbuild.buildSync({
  entryPoints: ['dist/cli/main.js'],
  outfile: 'dist/cli/main.bundle.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  external: ['pino', 'node-pty', 'etcd3'],
  logLevel: 'warning',
});

// The worker too, in place (dist/worker/main.js): every worker start, at
// boot and at each respawn, pays for its module files (bench/README.md).
esbuild.buildSync({
  entryPoints: ['dist/worker/main.js'],
  outfile: 'dist/worker/main.js',
  allowOverwrite: true,
  bundle: true,
  platform: 'node',
  target: 'node20',
  external: ['pino'],
  logLevel: 'warning',
});

// Record the V8 code cache bin/liege loads, from a typical hook-only run
// (the functions compiled by then are in the cache).
const { execFileSync } = require('child_process');
execFileSync(process.execPath, ['bin/liege', '--no-server', '--hook-asap', 'exec:true', '--hook-pre-jail', 'write:/dev/null x', '--hook-as-user-atexit', 'exit:0'], {
  env: { ...process.env, LIEGE_RECORD_CODE_CACHE: '1' },
  stdio: 'ignore',
});
