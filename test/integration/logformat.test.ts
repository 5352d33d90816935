// uWSGI's logformat: a [uwsgi] config's template makes the request log's
// lines (one per request, each whole, from 2 workers), with the app's
// logvars; `log-format = TEMPLATE` is the same; with `log-format = json`
// the line is the JSON line's msg; over the uwsgi protocol var.NAME reads
// the packet's vars; log-date puts the date before every text line of
// liege's (and log-date's format in %(ftime)); an unclosed %( is refused
// at load naming file:line.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, freePort, get, killGroup, lines, runLiege, scratch, startLiege, until, writeIni } from './helpers';

const dir = scratch();
const started: ResultPromise[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const app = path.join(FIXTURES, 'apps', 'logvar.js');
const COMBINED = '%(addr) - %(user) [%(ltime)] "%(method) %(uri) %(proto)" %(status) %(size) "%(referer)" "%(uagent)" uid=%(user_id) w=%(wid) ms=%(msecs)';
const LINE = /^127\.0\.0\.1 - - \[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "GET \/r\/(\d+) HTTP\/1\.1" 200 \d+ "http:\/\/ref\/" "tester" uid=u(\d+) w=[12] ms=\d+$/;

/** `n` GETs over 4 keep-alive connections with a referer and a user agent. */
async function requests(port: number, n: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  await Promise.all(Array.from({ length: n }, (_, i) => new Promise<void>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: `/r/${i}`, agent, headers: { referer: 'http://ref/', 'user-agent': 'tester' } }, (res) => {
      res.resume();
      res.on('end', resolve);
    }).on('error', reject);
  })));
  agent.destroy();
}

async function stop(p: ResultPromise): Promise<void> {
  process.kill(p.pid!, 'SIGTERM');
  expect((await p).exitCode).toBe(0);
}

describe('logformat', () => {
  it('a [uwsgi] config\'s logformat: every request one line of the template, with the app\'s logvar', async () => {
    const port = await freePort();
    const log = path.join(dir, 'combined.log');
    const ini = writeIni(dir, ['master = true', 'processes = 2', `http-socket = 127.0.0.1:${port}`, `node-app = ${app}`, `logto = ${log}`, `logformat = ${COMBINED}`], 'combined.ini');
    const p = startLiege(['--ini', ini], { cwd: dir });
    started.push(p);
    await until(() => get(port));
    await requests(port, 200);
    await stop(p);
    const got = lines(log).filter((l) => l.includes('"GET /r/'));
    expect(got).toHaveLength(200);
    const seen = new Set<number>();
    for (const l of got) {
      const m = LINE.exec(l);
      expect(m, l).not.toBeNull();
      seen.add(Number(m![1]));
      expect(m![2]).toBe(String(`/r/${m![1]}`.length)); // this request's logvar, not another's
    }
    expect(seen.size).toBe(200);
    // the default line is not written too
    expect(lines(log).some((l) => l.startsWith('[pid: '))).toBe(false);
  }, 30_000);

  it('log-format = TEMPLATE on the command line is the same; with log-format = json the line is the msg', async () => {
    for (const format of ['template', 'json']) {
      const port = await freePort();
      const log = path.join(dir, `${format}.log`);
      const args = format === 'json' ? ['--log-format', 'json', '--logformat', COMBINED] : ['--log-format', COMBINED];
      const p = startLiege(['--master', '-p', '2', '--http-socket', `127.0.0.1:${port}`, '--node-app', app, '--logto', log, ...args], { cwd: dir });
      started.push(p);
      await until(() => get(port));
      await requests(port, 20);
      await stop(p);
      const got = lines(log).filter((l) => l.includes('GET /r/'));
      expect(got).toHaveLength(20);
      if (format === 'json') {
        for (const l of got) {
          const j = JSON.parse(l) as Record<string, unknown>;
          expect(j).toMatchObject({ component: 'request', method: 'GET', status: 200 });
          expect(String(j.msg)).toMatch(LINE);
        }
      } else {
        for (const l of got) expect(l).toMatch(LINE);
      }
    }
  }, 30_000);

  it('over the uwsgi protocol, var.NAME is the packet\'s variable and addr its REMOTE_ADDR', async () => {
    const port = await freePort();
    const log = path.join(dir, 'uwsgi.log');
    const p = startLiege(['--master', '-p', '1', '--socket', `127.0.0.1:${port}`, '--node-app', app, '--logto', log, '--logformat', '%(addr) %(var.DOCUMENT_ROOT) %(var.REQUEST_URI) %(status) %(pktsize)'], { cwd: dir });
    started.push(p);
    const vars = { REQUEST_METHOD: 'GET', REQUEST_URI: '/u', SERVER_PROTOCOL: 'HTTP/1.1', HTTP_HOST: 'x', REMOTE_ADDR: '10.1.2.3', REMOTE_PORT: '4000', DOCUMENT_ROOT: '/srv/www' };
    await until(async () => ((await uwsgiGet(port, vars).catch(() => '')).startsWith('HTTP/1.1 200') ? true : undefined));
    await stop(p);
    const size = Object.entries(vars).reduce((n, [k, v]) => n + 4 + k.length + v.length, 0);
    expect(lines(log).filter((l) => l.startsWith('10.1.2.3 '))[0]).toBe(`10.1.2.3 /srv/www /u 200 ${size}`);
  }, 30_000);

  it('log-date: every text line of the master and the workers starts with the date (ctime, or a strftime format: %(ftime) too)', async () => {
    const CTIME = '[A-Z][a-z]{2} [A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d \\d{4}';
    const ISO = '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d';
    for (const [arg, date] of [['--log-date', CTIME], ['--log-date=%Y-%m-%d %H:%M:%S', ISO]] as const) {
      const port = await freePort();
      const p = startLiege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', path.join(FIXTURES, 'apps', 'throws-later.js'), arg, '--logformat', 'req %(uri) %(ftime)', '--logformat-strftime'], { cwd: dir });
      started.push(p);
      await until(() => get(port));
      // the worker's uncaught exception: a line of the worker's
      await fetch(`http://127.0.0.1:${port}/throw`).catch(() => undefined);
      await until(() => get(port));
      await stop(p);
      const err = String((await p).stderr).split('\n');
      const ours = err.filter((l) => l.includes('liege['));
      expect(ours.some((l) => /worker: .*uncaught exception in the app/.test(l))).toBe(true);
      expect(ours.some((l) => /master: /.test(l))).toBe(true);
      for (const l of ours) expect(l).toMatch(new RegExp(`^${date} - liege\\[\\d+\\] `));
      // the request lines are the template's, without the prefix; ftime in log-date's format
      const reqs = err.filter((l) => l.startsWith('req /'));
      expect(reqs.length).toBeGreaterThan(0);
      const ftime = date === ISO ? ISO : '\\d\\d\\/[A-Z][a-z]{2}\\/\\d{4}:\\d\\d:\\d\\d:\\d\\d [+-]\\d{4}'; // bare log-date: ltime
      for (const l of reqs) expect(l).toMatch(new RegExp(`^req \\/\\S* ${ftime}$`));
    }
  }, 60_000);

  it('an unclosed %( is refused at load, naming the file and line; nothing started', async () => {
    const ini = writeIni(dir, ['http-socket = 127.0.0.1:1', 'logformat = %(addr) %(status'], 'bad.ini');
    const r = await runLiege(['--ini', ini], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/bad\.ini:3/);
    expect(r.stderr).toMatch(/closed with "\)"/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});

/** One uwsgi request packet (no body); the answer up to the close. */
function uwsgiGet(port: number, vars: Record<string, string>): Promise<string> {
  const parts: Buffer[] = [];
  for (const s of Object.entries(vars).flat()) {
    const b = Buffer.from(s, 'latin1');
    const n = Buffer.alloc(2);
    n.writeUInt16LE(b.length);
    parts.push(n, b);
  }
  const block = Buffer.concat(parts);
  const head = Buffer.from([0, 0, 0, 0]);
  head.writeUInt16LE(block.length, 1);
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1', () => c.end(Buffer.concat([head, block])));
    const got: Buffer[] = [];
    c.on('data', (d) => got.push(d));
    c.on('error', reject);
    c.on('close', () => resolve(Buffer.concat(got).toString('latin1')));
  });
}
