#!/usr/bin/env node
'use strict';
// The request log's cost: server CPU µs per request (utime + stime of the
// whole process group: master, workers, their threads) with the request log
// on (`logto` file, text, `log-format = json`, or `template`: a uWSGI
// logformat, Apache's combined format; `master`: text through log-master;
// `logger`: text through the master to `logger = file:`; `reqlogger`: the
// request lines on their own pipe to `req-logger = file:`) against
// `--disable-logging`, on the shared hello app with wrk -t1 -c32 keep-alive,
// 1 and 2 workers. Several liege trees can be compared in one run (e.g. a
// build of main as the "before"): every row of every tree runs once per
// round, in a rotated order, so a shared machine's drift hits all alike.
// The log file is checked after each run: one line per request.
//
//   node bench/request-log.js [--rounds 3] [--seconds 8] [--workers 1,2]
//        [--formats off,text,json,template,master,logger,reqlogger] [--liege /path/a/bin/liege,/path/b/bin/liege]
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { groupTicks, TICK_US } = require('./lib/cpu');

const ROOT = path.resolve(__dirname, '..');
const HELLO = fs.existsSync(path.join(ROOT, '..', 'shared', 'bench', 'apps', 'hello.js'))
  ? path.join(ROOT, '..', 'shared', 'bench', 'apps', 'hello.js')
  : path.join(ROOT, 'test', 'fixtures', 'apps', 'handler.js');

const args = Object.fromEntries(process.argv.slice(2).join(' ').split('--').filter(Boolean).map((a) => a.trim().split(/\s+/)));
const rounds = Number(args.rounds || 3);
const seconds = Number(args.seconds || 8);
const workerCounts = String(args.workers || '1,2').split(',').map(Number);
const formats = String(args.formats || 'off,text,json').split(',');
const lieges = String(args.liege || path.join(ROOT, 'bin', 'liege')).split(',');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liege-reqlog-'));
fs.chmodSync(dir, 0o777);

const { freePort, ready, sleep } = require('./lib/net');

async function stop(child) {
  if (child.exitCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  process.kill(-child.pid, 'SIGTERM');
  const t = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 8000);
  await gone;
  clearTimeout(t);
}

function wrk(port, seconds) {
  const out = execFileSync('wrk', ['-t1', '-c32', `-d${seconds}s`, '--timeout', '2s', `http://127.0.0.1:${port}/`], { encoding: 'utf8' });
  return {
    rps: Number((/Requests\/sec:\s+([\d.]+)/.exec(out) || [])[1]),
    n: Number((/(\d+) requests in/.exec(out) || [0, 0])[1]),
    errors: /Socket errors: (.*)/.exec(out)?.[1] ?? '',
  };
}

// uWSGI's logformat: Apache's combined format with the response time
const COMBINED = '%(addr) - %(user) [%(ltime)] "%(method) %(uri) %(proto)" %(status) %(size) "%(referer)" "%(uagent)" %(msecs)';
// master: the text request log through the master (log-master: the master relays every line)
// logger, reqlogger: the same file (logto, its path) through a file logger
const FORMAT_ARGS = { off: ['--disable-logging'], template: ['--logformat', COMBINED], master: ['--log-master'], logger: (f) => ['--logger', `file:${f}`], reqlogger: (f) => ['--req-logger', `file:${f}`] };
const TEXT_LINE = /^\[pid: \d+\|worker: \d+\|req: \d+\] /;
const LINE_OF = { json: /"component":"request"/, text: TEXT_LINE, template: /^127\.0\.0\.1 - - \[/, master: TEXT_LINE, logger: TEXT_LINE, reqlogger: TEXT_LINE };

async function runRow(row) {
  const port = await freePort();
  const logfile = path.join(dir, 'requests.log');
  fs.rmSync(logfile, { force: true });
  const given = FORMAT_ARGS[row.format];
  const extra = typeof given === 'function' ? given(logfile) : given ?? ['--log-format', row.format];
  const child = spawn(row.liege, ['--master', '--processes', String(row.workers), '--http-socket', `127.0.0.1:${port}`, '--node-app', HELLO, '--logto', logfile, ...extra], {
    stdio: ['ignore', 'ignore', 'ignore'], detached: true, env: { ...process.env, PORT: String(port) },
  });
  try {
    await ready(port);
    wrk(port, 1); // warm-up
    const t0 = groupTicks(child.pid);
    const w = wrk(port, seconds);
    const cpuUs = ((groupTicks(child.pid) - t0) * TICK_US) / w.n;
    return { ...w, cpuUs };
  } finally {
    await stop(child);
    if (row.format !== 'off') {
      const text = fs.readFileSync(logfile, 'utf8');
      const re = LINE_OF[row.format];
      const lines = text.split('\n').filter((l) => re.test(l)).length;
      row.lines = lines;
    }
  }
}

const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

async function main() {
  const rows = [];
  for (const liege of lieges) for (const workers of workerCounts) for (const format of formats) rows.push({ liege, workers, format, cpu: [], rps: [] });
  const name = (r) => `${lieges.length > 1 ? `${r.liege} ` : ''}${r.workers}w ${r.format}`;
  const loads = [os.loadavg()[0]];
  for (let round = 0; round < rounds; round++) {
    const order = rows.map((_, i) => rows[(i + round * 5) % rows.length]);
    for (const row of order) {
      const x = await runRow(row);
      row.cpu.push(x.cpuUs);
      row.rps.push(x.rps);
      const check = row.format === 'off' ? '' : ` lines ${row.lines} (wrk counted ${x.n}+warm-up)`;
      console.error(`round ${round + 1}/${rounds} ${name(row)}: ${x.rps.toFixed(0)} req/s, ${x.cpuUs.toFixed(2)} µs CPU/request${check}${x.errors ? ` errors ${x.errors}` : ''} load ${os.loadavg()[0].toFixed(1)}`);
      loads.push(os.loadavg()[0]);
    }
  }
  console.log(`\nload average (1 min) during the run: ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`);
  console.log(`\n| tree | workers | request log | req/s median | CPU µs/request median | vs log off (median of per-round ratios) |\n|---|---|---|---|---|---|`);
  for (const r of rows) {
    const off = rows.find((o) => o.liege === r.liege && o.workers === r.workers && o.format === 'off');
    const ratio = off ? med(r.cpu.map((c, i) => c / off.cpu[i])) : NaN;
    console.log(`| ${r.liege} | ${r.workers} | ${r.format} | ${med(r.rps).toFixed(0)} | ${med(r.cpu).toFixed(2)} | ${ratio.toFixed(3)} |`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
