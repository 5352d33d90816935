// max-fd (uWSGI): the open file limit of the master and its workers, set
// as root before the drop (the workers run as nobody); a value above the
// kernel's ceiling is said with the reason and the instance starts anyway.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResultPromise } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { childrenOf, FIXTURES, freePort, get, killGroup, startLiege, until } from './helpers';

const started: ResultPromise[] = [];
afterEach(() => {
  for (const p of started.splice(0)) killGroup(p);
});

const nofile = (pid: number) => /^Max open files\s+(\d+)\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/limits`, 'utf8'))!.slice(1).map(Number);
const app = path.join(FIXTURES, 'apps', 'handler.js');

describe('max-fd', () => {
  it('sets the limit of the master and of its workers (which run as nobody)', async () => {
    const port = await freePort();
    const p = startLiege(['--master', '-p', '2', '--http-socket', `127.0.0.1:${port}`, '--node-app', app, '--uid', 'nobody', '--gid', 'nogroup', '--max-fd', '4321']);
    started.push(p);
    await until(() => get(port));
    const workers = await until(() => (childrenOf(p.pid!).length === 2 ? childrenOf(p.pid!) : undefined));
    for (const pid of [p.pid!, ...workers]) expect(nofile(pid)).toEqual([4321, 4321]);
  }, 30_000);

  it('a limit the kernel refuses: said with the reason and the limit kept; the instance serves', async () => {
    const port = await freePort();
    const before = nofile(process.pid);
    const p = startLiege(['--master', '-p', '1', '--http-socket', `127.0.0.1:${port}`, '--node-app', app, '--max-fd', '1073741816']);
    started.push(p);
    let text = '';
    p.stderr!.on('data', (d: Buffer) => { text += d.toString(); });
    await until(() => get(port));
    expect(text).toMatch(/unable to set max-fd to 1073741816: EPERM \(above the kernel's fs\.nr_open, \d+\); the limit stays \d+\/\d+/);
    expect(nofile(p.pid!)).toEqual(before);
  }, 30_000);
});
