// An open file limit too low for Node (ulimit -n 18 and below: Node fails
// before any JS runs, with an assertion, a segfault or EMFILE on bin/liege
// itself) is a clear error from bin/liege's first line: exit 1, the limit,
// what to do. From 19 on liege runs and says what fails (EMFILE at the
// registry, the fifo, a spawn); max-fd below 32 is a config error. (Under
// 12 the shell itself cannot read the script: dash says "Invalid argument".)
import { execa } from 'execa';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, freePort, get, killGroup, LIEGE, runLiege, until } from './helpers';

const started: ResultPromise[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
});

const app = path.join(FIXTURES, 'apps', 'handler.js');
const underLimit = (n: number, args: string[], detached = false) => execa('sh', ['-c', `ulimit -n ${n} && exec "$0" "$@"`, LIEGE, ...args], { reject: false, stdin: 'ignore', detached, env: { TEST_LIEGE: '1' }, timeout: 30_000 });

describe('an open file limit too low to run', () => {
  for (const n of [12, 18]) {
    it(`ulimit -n ${n}: exit 1, says the limit and how to raise it (before: a Node assertion, segfault or EMFILE stack)`, async () => {
      const port = await freePort();
      const r = await underLimit(n, ['--master', '--http-socket', `127.0.0.1:${port}`, '--node-app', app]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`the open file limit \\(ulimit -n\\) is ${n}, Node cannot start with less than 19`));
      expect(r.stderr).toMatch(/ulimit -n 1024 in the shell, LimitNOFILE= in the systemd unit/);
      expect(r.stderr).toMatch(/code=LIEGE_ERR_FD_LIMIT/);
      expect(r.stderr).not.toMatch(/node:|Assertion|Segmentation|\n\s+at /);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });
  }

  it('ulimit -n 32: the instance serves', async () => {
    const port = await freePort();
    const p = underLimit(32, ['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', app], true);
    started.push(p);
    expect(await until(() => get(port))).toMatchObject({ status: 200 });
    process.kill(p.pid!, 'SIGTERM');
    const r = await p;
    expect(r.exitCode).toBe(0);
  }, 30_000);

  it('max-fd below 32 is refused as a config error (before: the workers died in Node at start)', async () => {
    const r = await runLiege(['--master', '--http-socket', '127.0.0.1:0', '--node-app', app, '--max-fd', '20']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/max-fd/);
    expect(r.stderr).toMatch(/an integer from 32/);
  });
});
