#!/usr/bin/env node
'use strict';
// Serving benchmarks of liege's own (the anchors' harness is ../shared/bench):
//  * nginx → liege `socket` (uWSGI binary protocol, uwsgi_pass) against
//    nginx → liege `http-socket` (proxy_pass with upstream keep-alive);
//  * the request log's cost: `http-socket` with the request log on (to a
//    file, logto) against `--disable-logging`.
// 2 workers, the shared hello app, wrk -t1 -c64; rows interleaved in a
// rotated order each round, so drift on a shared machine hits all alike.
//
//   node bench/serving.js [--rounds 3] [--seconds 8]
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const LIEGE = path.join(ROOT, 'bin', 'liege');
const HELLO = fs.existsSync(path.join(ROOT, '..', 'shared', 'bench', 'apps', 'hello.js'))
  ? path.join(ROOT, '..', 'shared', 'bench', 'apps', 'hello.js')
  : path.join(ROOT, 'test', 'fixtures', 'apps', 'handler.js');
const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => fs.existsSync(p));

const args = Object.fromEntries(process.argv.slice(2).join(' ').split('--').filter(Boolean).map((a) => a.trim().split(/\s+/)));
const rounds = Number(args.rounds || 3);
const seconds = Number(args.seconds || 8);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liege-bench-'));
fs.chmodSync(dir, 0o755);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

async function ready(port) {
  for (let i = 0; i < 1000; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } });
      await r.text();
      if (r.status === 200) return;
    } catch { /* not yet */ }
    await sleep(20);
  }
  throw new Error(`port ${port} never answered 200`);
}

function startLiege(sockArgs, extra, port) {
  return spawn(LIEGE, ['--master', '--processes', '2', ...sockArgs, '--node-app', HELLO, ...extra], {
    env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'ignore'], detached: true,
  });
}

function startNginx(front, upstream) {
  const prefix = fs.mkdtempSync(path.join(dir, 'nginx-'));
  const params = ['QUERY_STRING $query_string', 'REQUEST_METHOD $request_method', 'CONTENT_TYPE $content_type', 'CONTENT_LENGTH $content_length',
    'REQUEST_URI $request_uri', 'PATH_INFO $document_uri', 'DOCUMENT_ROOT $document_root', 'SERVER_PROTOCOL $server_protocol', 'REQUEST_SCHEME $scheme',
    'REMOTE_ADDR $remote_addr', 'REMOTE_PORT $remote_port', 'SERVER_PORT $server_port', 'SERVER_NAME $server_name', 'HTTP_HOST $host']
    .map((p) => `uwsgi_param ${p};`).join(' ');
  const location = upstream.kind === 'uwsgi'
    ? `location / { ${params} uwsgi_pass 127.0.0.1:${upstream.port}; }`
    : `location / { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://app; }`;
  const conf = `daemon off; master_process on; worker_processes 1; pid ${prefix}/nginx.pid; error_log ${prefix}/error.log warn;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path ${prefix}/b; proxy_temp_path ${prefix}/p; fastcgi_temp_path ${prefix}/f; uwsgi_temp_path ${prefix}/u; scgi_temp_path ${prefix}/s;
  upstream app { server 127.0.0.1:${upstream.port}; keepalive 64; }
  server { listen 127.0.0.1:${front}; ${location} } }`;
  fs.writeFileSync(path.join(prefix, 'nginx.conf'), conf);
  return spawn(NGINX, ['-p', prefix, '-c', path.join(prefix, 'nginx.conf')], { stdio: 'ignore' });
}

function wrk(port) {
  const out = execFileSync('wrk', ['-t1', '-c64', `-d${seconds}s`, '--timeout', '2s', `http://127.0.0.1:${port}/`], { encoding: 'utf8' });
  const rps = Number((/Requests\/sec:\s+([\d.]+)/.exec(out) || [])[1]);
  const errors = /Socket errors: (.*)/.exec(out)?.[1] ?? '';
  const non2xx = Number((/Non-2xx or 3xx responses:\s+(\d+)/.exec(out) || [0, 0])[1]);
  return { rps, errors, non2xx };
}

async function stop(child) {
  if (!child || child.exitCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  try { process.kill(-child.pid, 'SIGTERM'); } catch { child.kill('SIGTERM'); }
  const t = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 5000);
  await gone;
  clearTimeout(t);
}

const ROWS = {
  'direct http-socket, request log off': { sock: 'http', extra: ['--disable-logging'] },
  'direct http-socket, request log on (logto file)': { sock: 'http', extra: () => ['--logto', path.join(dir, 'requests.log')] },
  'nginx → socket (uwsgi protocol)': { sock: 'uwsgi', nginx: true, extra: ['--disable-logging'] },
  'nginx → http-socket (keep-alive upstream)': { sock: 'http', nginx: true, extra: ['--disable-logging'] },
};

async function runRow(row) {
  const back = await freePort();
  const sockArgs = row.sock === 'uwsgi' ? ['--socket', `127.0.0.1:${back}`] : ['--http-socket', `127.0.0.1:${back}`];
  const extra = typeof row.extra === 'function' ? row.extra() : row.extra;
  const liege = startLiege(sockArgs, extra, back);
  let nginx;
  try {
    let port = back;
    if (row.nginx) {
      if (row.sock === 'http') await ready(back);
      else await sleep(1500);
      port = await freePort();
      nginx = startNginx(port, { kind: row.sock, port: back });
    }
    await ready(port);
    execFileSync('wrk', ['-t1', '-c64', '-d1s', `http://127.0.0.1:${port}/`], { stdio: 'ignore' }); // warm-up
    return wrk(port);
  } finally {
    await stop(nginx);
    await stop(liege);
  }
}

async function main() {
  if (!NGINX) console.error('nginx not found: nginx rows skipped');
  const names = Object.keys(ROWS).filter((n) => NGINX || !ROWS[n].nginx);
  const res = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    const order = names.map((_, i) => names[(i + r) % names.length]);
    for (const n of order) {
      const x = await runRow(ROWS[n]);
      res[n].push(x.rps);
      console.error(`round ${r + 1}/${rounds} ${n}: ${x.rps.toFixed(0)} req/s${x.errors ? ` (socket errors: ${x.errors})` : ''}${x.non2xx ? ` non2xx ${x.non2xx}` : ''}`);
    }
  }
  const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  console.log(`\n| row | req/s median (${rounds} rounds) | min–max |\n|---|---|---|`);
  for (const n of names) console.log(`| ${n} | ${med(res[n]).toFixed(0)} | ${Math.min(...res[n]).toFixed(0)}–${Math.max(...res[n]).toFixed(0)} |`);
  const m = Object.fromEntries(names.map((n) => [n, med(res[n])]));
  console.log(`\nrequest log cost: ${((1 - m['direct http-socket, request log on (logto file)'] / m['direct http-socket, request log off']) * 100).toFixed(1)} % of req/s`);
  if (NGINX) console.log(`nginx → uwsgi / nginx → http-socket: ${(m['nginx → socket (uwsgi protocol)'] / m['nginx → http-socket (keep-alive upstream)']).toFixed(2)}`);
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => { console.error(e); process.exit(1); });
