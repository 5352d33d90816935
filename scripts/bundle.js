#!/usr/bin/env node
// After tsc: bundle the CLI into main.bundle.js and parts loaded on use
// (scripts/parts.js), and the worker into one file. A Node 20 start
// pays ~1 ms per module file on a small VM; the bundle keeps a hook-only
// start near a bare `node` start (bench/README.md). It sits at the same
// depth as the other dist/ folders, so __dirname-relative paths (native
// addon, worker and vassal entry points) resolve the same. pino stays
// external: it is loaded only for log-format = json; node-pty (a native
// addon) only for attach-daemon-pty and liege attach; etcd3 (with gRPC)
// only by the etcd emperor and `liege etcd`; prom-client only for metrics;
// strftime only for a log-date format.
const esbuild = require('esbuild');
// prom-client (with @opentelemetry/api, bintrees, tdigest: 170 KB, a quarter
// of the bundle) is loaded only for `metrics =`; every other process would
// hold its source in the heap for nothing.
const EXTERNAL = ['pino', 'node-pty', 'etcd3', 'yaml', 'tar', 'prom-client', 'strftime'];
const { buildParts } = require('./parts');
// (tsc ran before this script: the flags bin/liege runs Node with)
const { LIEGE_NODE_FLAGS } = require('../dist/os/node-flags.js');
// from the TypeScript sources, not tsc's CommonJS output: esbuild hoists
// the ES modules into one scope (no wrapper, exports object and getter
// per module), ~0.6 MiB less heap in every process (a vassal: bench/README.md)
const CLI_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  logLevel: 'warning',
};

// esbuild escapes non-ASCII in strings but keeps a few comments with `…`
// or `→`: one such character makes V8 hold the whole source as a two-byte
// string (twice the memory in every process, ~0.5 MiB a vassal). Escape them.
const fs = require('fs');
const { execFileSync, spawn } = require('child_process');
const net = require('net');
// The file is also written already wrapped as a CommonJS module function:
// the loaders hand it to vm.Script as is, where Module.wrap(source) would
// make a second copy of the whole source in the heap (~0.65 MiB a process
// until a major GC).
const Module = require('module');
// esbuild's __toESM (behind every `import * as fs from 'node:fs'`) copies
// the module's properties as getters into a new object, once per importing
// module: 129 copies in the CLI bundle, a third of its load time and
// thousands of closures in the heap. One namespace object per module (what
// real ESM gives every importer) is the same to the code that uses it.
const TO_ESM = 'var __toESM = (mod, isNodeMode, target) => (';
const TO_ESM_ONCE = `var __toESMSeen = [new WeakMap(), new WeakMap()];
var __toESM = (mod, isNodeMode) => {
  if (mod === null || (typeof mod !== "object" && typeof mod !== "function")) return __toESMOnce(mod, isNodeMode);
  const seen = __toESMSeen[isNodeMode ? 1 : 0];
  let ns = seen.get(mod);
  if (!ns) seen.set(mod, ns = __toESMOnce(mod, isNodeMode));
  return ns;
};
var __toESMOnce = (mod, isNodeMode, target) => (`;
const oneByte = (file, minify) => {
  let code = fs.readFileSync(file, 'utf8');
  if (code.includes(TO_ESM)) code = code.replace(TO_ESM, TO_ESM_ONCE);
  code = plainBuiltins(code);
  if (minify) code = esbuild.transformSync(code, MINIFY).code;
  code = code.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  fs.writeFileSync(file, Module.wrap(code));
};
// `import * as fs from 'node:fs'` is bundled as `fs = __toESM(require("node:fs"))`:
// a copy of the module with a getter closure per export (fs alone has ~100),
// ~0.2 MiB of startup garbage for the CLI's builtins. The code reads them as
// `fs.x` only, the same on the module itself; a namespace whose `.default`
// is read (a default import: `import Module from 'node:module'`) keeps it.
const plainBuiltins = (code) => code.replace(/([\w$]+)\s*=\s*__toESM\(require\("(node:[\w/]+)"\)\)/g, (all, name, id) => (code.includes(`${name}.default`) ? all : `${name} = require("${id}")`));
// no keepNames: function names cost a vassal 0.4 MiB (bench/README.md,
// helper b); stack traces are for LIEGE_DEBUG=1 only
const MINIFY = { format: 'cjs', platform: 'node', target: 'node20', minifyWhitespace: true, minifySyntax: true, minifyIdentifiers: true, legalComments: 'none' };
// uWSGI's option table and the help text of the ignored uWSGI options, read
// on demand (src/config/uwsgi-table.ts finds them beside its dist/config/ output)
fs.copyFileSync('src/config/uwsgi-options.txt', 'dist/config/uwsgi-options.txt');
fs.copyFileSync('src/config/uwsgi-help.txt', 'dist/config/uwsgi-help.txt');

async function main() {
  const parts = await buildParts(CLI_OPTIONS);
  for (const name of ['main', ...parts]) oneByte(`dist/cli/${name}.bundle.js`, true);
  buildWorker();
  // Record the V8 code cache bin/liege loads, from a typical hook-only run
  // (the functions compiled by then are in the cache): main's and the hook
  // actions' part.
  execFileSync(process.execPath, [...LIEGE_NODE_FLAGS, 'bin/liege', '--no-server', '--hook-asap', 'exec:true', '--hook-pre-jail', 'write:/dev/null x', '--hook-as-user-atexit', 'exit:0'], {
    env: { ...process.env, LIEGE_RECORD_CODE_CACHE: 'main,actions' },
    stdio: 'ignore',
  });
  // The other parts' caches hold what their module code runs at load (a part is
  // loaded once by a command or an emperor start; a run of each is not
  // worth a build step): recorded by loading every part in one process.
  const others = parts.filter((p) => p !== 'actions');
  execFileSync(process.execPath, [...LIEGE_NODE_FLAGS, 'bin/liege', '--version'], {
    env: { ...process.env, LIEGE_RECORD_CODE_CACHE: others.join(','), LIEGE_LOAD_PARTS: parts.join(',') },
    stdio: 'ignore',
  });
  // And the worker's, from a worker that loads a handler app on a socket and
  // drains (no request: this script's own server would accept it).
  try {
    await recordWorkerCache();
  } catch (e) {
    process.stderr.write(`worker code cache not recorded: ${e.message}\n`); // the build works without it
  }
}

// The worker: every worker start, at boot and at each respawn, pays for
// its code. From the TypeScript sources too (tree-shaken: 80 KB instead of
// 420 KB bundled from tsc's CommonJS output, which dragged in yaml and the
// whole hook registry), run by a loader at dist/worker/main.js (the path the
// master spawns) with a V8 code cache, as bin/liege does for the CLI.
// Minified like the CLI: every worker holds its source in the heap (101 →
// 61 KB), and the builtins without __toESM copies (as above).
function buildWorker() {
  esbuild.buildSync({
    entryPoints: ['src/worker/main.ts'],
    outfile: 'dist/worker/main.bundle.js',
    bundle: true,
    platform: 'node',
    target: 'node20',
    external: EXTERNAL,
    logLevel: 'warning',
  });
  oneByte('dist/worker/main.bundle.js', true);
  fs.writeFileSync('dist/worker/main.js', `'use strict';
// Generated by scripts/bundle.js: runs main.bundle.js with the V8 code cache
// recorded at build time (a stale or missing cache is simply not used; see
// bin/liege, which loads the CLI bundle the same way).
// First: SIGUSR1 must not open Node's inspector (src/os/inspector-signal.ts).
process.on('SIGUSR1', () => {});
const fs = require('fs');
// the CommonJS Module class without require('module'), which also loads
// Node's ESM loader and source maps (~0.2 MiB of every worker's RSS)
const Module = module.constructor;
const vm = require('vm');
const bundle = __dirname + '/main.bundle.js';
// The source as a property name: V8 then keeps it interned, in the old
// generation, where a plain string is born in the new space and copied by
// the first two scavenges. Those copies count toward V8's growth of the new
// space (1 MiB of survivors doubles it): every worker held 2 MiB more after
// a short load than a node:cluster worker (bench/README.md, session 16).
const source = Object.keys({ [fs.readFileSync(bundle, 'utf8')]: 0 })[0];
let cachedData;
try {
  cachedData = fs.readFileSync(bundle + '.v8cache');
} catch { /* compile as usual */ }
const script = new vm.Script(source, { filename: bundle, cachedData }); // wrapped at build time
cachedData = undefined;
const mod = new Module(bundle, module);
mod.filename = bundle;
mod.paths = Module._nodeModulePaths(__dirname);
if (process.env.LIEGE_RECORD_CODE_CACHE === '1') process.once('exit', () => fs.writeFileSync(bundle + '.v8cache', script.createCachedData()));
script.runInThisContext().call(mod.exports, mod.exports, (id) => mod.require(id), mod, bundle, __dirname);
`);
}

async function recordWorkerCache() {
  const path = require('path');
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = srv.address().port;
  // (an app every checkout and image has: docker/Dockerfile copies configs/,
  // not test/; the worker failed to load the fixture there)
  const app = path.resolve('configs/apps/hello.js');
  const spec = { id: 1, once: true, app, sockets: [{ addr: `127.0.0.1:${port}`, proto: 'http', port }], hooks: [], ctx: {}, masterPid: process.pid, requestLog: { disabled: true, log4xx: false, log5xx: false, slowMs: 0 }, logFormat: 'text' };
  const child = spawn(process.execPath, ['dist/worker/main.js'], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc', srv._handle.fd],
    env: { ...process.env, LIEGE_RECORD_CODE_CACHE: '1', LIEGE_WORKER: JSON.stringify(spec) },
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
  const exited = new Promise((resolve) => child.on('exit', resolve));
  try {
    const accepting = await Promise.race([new Promise((resolve) => child.on('message', (m) => m.type === 'accepting' && resolve(true))), exited]);
    if (accepting !== true) throw new Error('the worker did not start');
    child.kill('SIGTERM');
    await exited;
  } finally {
    // (on a failure too: the listening server kept the build from ending, for good)
    clearTimeout(timer);
    srv.close();
  }
}

main().catch((e) => {
  process.stderr.write(`${e.stack}\n`);
  process.exit(1);
});
