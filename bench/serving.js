#!/usr/bin/env node
'use strict';
// Serving benchmarks of liege's own (the anchors' harness is ../shared/bench):
//  * the worker's cost per request: server CPU µs per request of liege
//    (`http-socket`, request log off) against the same app on a bare
//    http.Server (`node hello.js`, the anchor);
//  * nginx → liege `socket` (uWSGI binary protocol, uwsgi_pass: a new
//    upstream connection per request) against nginx → liege `http-socket`
//    with upstream keep-alive, and without it (a new connection per
//    request too: what the connection itself costs);
//  * the request log's cost: `http-socket` with the request log on (to a
//    file, logto) against `--disable-logging`.
// 2 workers, the shared hello app, wrk -t1 -c64; rows interleaved in a
// rotated order each round, so drift on a shared machine hits all alike.
// CPU is that of the server's process group (master + workers, or the bare
// node), not nginx's or wrk's: other sessions disturb it less than req/s.
//
//   node bench/serving.js [--rounds 3] [--seconds 8]
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
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

const { freePort, ready, sleep } = require('./lib/net');

function startBare(port) {
  return spawn(process.execPath, [HELLO], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'ignore'], detached: true });
}

const { groupTicks, TICK_US } = require('./lib/cpu');

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
    : upstream.keepalive
      ? `location / { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://app; }`
      : `location / { proxy_pass http://127.0.0.1:${upstream.port}; }`;
  const conf = `daemon off; master_process on; worker_processes 1; pid ${prefix}/nginx.pid; error_log ${prefix}/error.log warn;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path ${prefix}/b; proxy_temp_path ${prefix}/p; fastcgi_temp_path ${prefix}/f; uwsgi_temp_path ${prefix}/u; scgi_temp_path ${prefix}/s;
  upstream app { server 127.0.0.1:${upstream.port}; keepalive 64; }
  server { listen 127.0.0.1:${front}; ${location} } }`;
  fs.writeFileSync(path.join(prefix, 'nginx.conf'), conf);
  return spawn(NGINX, ['-p', prefix, '-c', path.join(prefix, 'nginx.conf')], { stdio: 'ignore' });
}

function wrk(port, pgid) {
  const t0 = groupTicks(pgid);
  const out = execFileSync('wrk', ['-t1', '-c64', `-d${seconds}s`, '--timeout', '2s', `http://127.0.0.1:${port}/`], { encoding: 'utf8' });
  const rps = Number((/Requests\/sec:\s+([\d.]+)/.exec(out) || [])[1]);
  const errors = /Socket errors: (.*)/.exec(out)?.[1] ?? '';
  const non2xx = Number((/Non-2xx or 3xx responses:\s+(\d+)/.exec(out) || [0, 0])[1]);
  const n = Number((/(\d+) requests in/.exec(out) || [0, 0])[1]);
  return { rps, errors, non2xx, cpuUs: n ? ((groupTicks(pgid) - t0) * TICK_US) / n : NaN };
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
  'bare http.Server (node hello.js, 1 process): the anchor': { bare: true },
  'direct http-socket, request log off': { sock: 'http', extra: ['--disable-logging'] },
  'direct http-socket, request log on (logto file)': { sock: 'http', extra: () => ['--logto', path.join(dir, 'requests.log')] },
  'nginx → socket (uwsgi protocol)': { sock: 'uwsgi', nginx: true, extra: ['--disable-logging'] },
  'nginx → http-socket (keep-alive upstream)': { sock: 'http', nginx: true, keepalive: true, extra: ['--disable-logging'] },
  'nginx → http-socket (no upstream keep-alive: a connection per request)': { sock: 'http', nginx: true, extra: ['--disable-logging'] },
};

async function runRow(row) {
  const back = await freePort();
  const sockArgs = row.sock === 'uwsgi' ? ['--socket', `127.0.0.1:${back}`] : ['--http-socket', `127.0.0.1:${back}`];
  const extra = typeof row.extra === 'function' ? row.extra() : row.extra;
  const liege = row.bare ? startBare(back) : startLiege(sockArgs, extra, back);
  let nginx;
  try {
    let port = back;
    if (row.nginx) {
      if (row.sock === 'http') await ready(back);
      else await sleep(1500);
      port = await freePort();
      nginx = startNginx(port, { kind: row.sock, port: back, keepalive: row.keepalive });
    }
    await ready(port);
    execFileSync('wrk', ['-t1', '-c64', '-d1s', `http://127.0.0.1:${port}/`], { stdio: 'ignore' }); // warm-up
    return wrk(port, liege.pid);
  } finally {
    await stop(nginx);
    await stop(liege);
  }
}

async function main() {
  if (!NGINX) console.error('nginx not found: nginx rows skipped');
  const names = Object.keys(ROWS).filter((n) => NGINX || !ROWS[n].nginx);
  const res = Object.fromEntries(names.map((n) => [n, []]));
  const cpu = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    const order = names.map((_, i) => names[(i + r) % names.length]);
    for (const n of order) {
      const x = await runRow(ROWS[n]);
      res[n].push(x.rps);
      cpu[n].push(x.cpuUs);
      console.error(`round ${r + 1}/${rounds} ${n}: ${x.rps.toFixed(0)} req/s, ${x.cpuUs.toFixed(1)} µs CPU/request${x.errors ? ` (socket errors: ${x.errors})` : ''}${x.non2xx ? ` non2xx ${x.non2xx}` : ''}`);
    }
  }
  const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const ANCHOR = names[0];
  // ratios within each round (the same machine state), then their median
  const perRound = (r, a, b) => med(r[a].map((x, i) => x / r[b][i]));
  console.log(`\n| row | req/s median (${rounds} rounds) | min–max | server CPU µs/request (median) | CPU vs the bare server (median per round) |\n|---|---|---|---|---|`);
  for (const n of names) console.log(`| ${n} | ${med(res[n]).toFixed(0)} | ${Math.min(...res[n]).toFixed(0)}–${Math.max(...res[n]).toFixed(0)} | ${med(cpu[n]).toFixed(1)} | ${perRound(cpu, n, ANCHOR).toFixed(3)} |`);
  const LOG_OFF = 'direct http-socket, request log off';
  const LOG_ON = 'direct http-socket, request log on (logto file)';
  console.log(`\nrequest log cost: ${((1 - perRound(res, LOG_ON, LOG_OFF)) * 100).toFixed(1)} % of req/s, ${((perRound(cpu, LOG_ON, LOG_OFF) - 1) * 100).toFixed(1)} % of CPU per request (medians of per-round ratios)`);
  if (NGINX) {
    console.log(`nginx → uwsgi / nginx → http-socket keep-alive: ${perRound(res, 'nginx → socket (uwsgi protocol)', 'nginx → http-socket (keep-alive upstream)').toFixed(2)}`);
    console.log(`nginx → uwsgi / nginx → http-socket, a connection per request: ${perRound(res, 'nginx → socket (uwsgi protocol)', 'nginx → http-socket (no upstream keep-alive: a connection per request)').toFixed(2)}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => { console.error(e); process.exit(1); });
