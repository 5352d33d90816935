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
  // from the TypeScript sources, not tsc's CommonJS output: esbuild hoists
  // the ES modules into one scope (no wrapper, exports object and getter
  // per module), ~0.6 MiB less heap in every process (a vassal: bench/README.md)
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/cli/main.bundle.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  external: ['pino', 'node-pty', 'etcd3', 'yaml', 'tar'],
  logLevel: 'warning',
});

// esbuild escapes non-ASCII in strings but keeps a few comments with `…`
// or `→`: one such character makes V8 hold the whole source as a two-byte
// string (twice the memory in every process, ~0.5 MiB a vassal). Escape them.
const fs = require('fs');
const bundled = fs.readFileSync('dist/cli/main.bundle.js', 'utf8');
fs.writeFileSync('dist/cli/main.bundle.js', bundled.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));

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
