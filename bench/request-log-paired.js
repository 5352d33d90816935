#!/usr/bin/env node
'use strict';
// The request log's own cost, paired: one process serves the shared hello
// app through liege's request observer (dist/worker/observe.js, what a
// worker runs) under a steady wrk -t1 -c32 keep-alive load, and switches
// its request log on and off every `--slice` ms. CPU (process.cpuUsage:
// every thread, the thread pool's writes included) and requests are summed
// per state; both states see the same load on the machine within a second,
// which a shared machine's drift does not (bench/request-log.js runs whole
// liege instances, one after the other). Lines go to fd 2: run with
// `2>FILE` (a file, as with `logto`); the line count is checked at the end.
//
//   node bench/request-log-paired.js [--seconds 20] [--slice 250] [--format text|json]
//        [--dist /path/to/dist] 2>/tmp/requests.log
const { execFile } = require('child_process');
const fs = require('fs');
const http = require('http');
const path = require('path');

const args = Object.fromEntries(process.argv.slice(2).join(' ').split('--').filter(Boolean).map((a) => a.trim().split(/\s+/)));
const seconds = Number(args.seconds || 20);
const slice = Number(args.slice || 250);
const format = args.format || 'text';
const dist = path.resolve(args.dist || path.join(__dirname, '..', 'dist'));

const { RequestObserver } = require(path.join(dist, 'worker', 'observe.js'));
const log = require(path.join(dist, 'log.js'));
log.setLogFormat(format);
log.setWorkerLogFields(1);

const spec = { id: 1, requestLog: { disabled: false, log4xx: false, log5xx: false, slowMs: 0 } };
const observer = new RequestObserver(spec, () => {});
const pid = String(process.pid);
let served = 0;
const server = http.createServer((req, res) => {
  served++;
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 5, 'x-pid': pid });
  res.end('hello');
});
observer.observe(server);

const totals = { on: { cpu: 0, n: 0 }, off: { cpu: 0, n: 0 } };
let on = true;
function setLog(state) {
  on = state;
  observer.logAll = state; // the observer's flags, as disable-logging sets them
  observer.logSome = state;
}

server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  const wrk = execFile('wrk', ['-t1', '-c32', `-d${seconds + 2}s`, `http://127.0.0.1:${port}/`]);
  setTimeout(() => {
    // warmed up: measure slices, alternating
    let cpu = process.cpuUsage();
    let n = served;
    let slices = 0;
    setLog(true);
    const tick = setInterval(() => {
      const c = process.cpuUsage();
      const t = totals[on ? 'on' : 'off'];
      t.cpu += c.user - cpu.user + c.system - cpu.system;
      t.n += served - n;
      cpu = c;
      n = served;
      slices++;
      // on, off, off, on, on, off ...: each state follows each equally often
      if (slices % 2 === 1) setLog(!on);
      if (slices * slice >= seconds * 1000) {
        clearInterval(tick);
        setLog(true);
        finish(wrk);
      }
    }, slice);
  }, 1500);
});

function finish(wrk) {
  wrk.kill('SIGINT');
  const usOn = totals.on.cpu / totals.on.n;
  const usOff = totals.off.cpu / totals.off.n;
  server.close();
  setTimeout(() => {
    // lines: at least the requests of the "on" slices (warm-up included)
    process.on('exit', () => {
      let lines = -1;
      try {
        const stat = fs.fstatSync(2);
        if (stat.isFile()) lines = fs.readFileSync(`/proc/self/fd/2`, 'utf8').split('\n').filter(Boolean).length;
      } catch { /* not a file */ }
      console.log(JSON.stringify({ format, slice, seconds, requestsOn: totals.on.n, requestsOff: totals.off.n, usOn: +usOn.toFixed(3), usOff: +usOff.toFixed(3), cost: +(usOn / usOff - 1).toFixed(4), lines }));
    });
    process.exit(0);
  }, 300);
}
