// Pure parts of emperor/: monitor scans (dir, glob, union) and the vassal's
// environment (UWSGI_VASSAL_X → UWSGI_X, no reload count, the emperor pipe).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EMPEROR_FD_ENV, VASSAL_ENV } from '../../../src/ipc/vassal';
import { scanAll, scanMonitor } from '../../../src/emperor/monitors';
import { vassalEnv } from '../../../src/emperor/vassal';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'liege-monitors-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('emperor monitors', () => {
  fs.mkdirSync(path.join(dir, 'a'));
  fs.mkdirSync(path.join(dir, 'b'));
  for (const f of ['a/one.ini', 'a/two.ini', 'a/notes.txt', 'b/one.ini']) fs.writeFileSync(path.join(dir, f), '[uwsgi]\n');
  fs.mkdirSync(path.join(dir, 'a', 'dir.ini')); // a directory is not a vassal

  it('a directory (plain or dir://) yields its *.ini files with their mtimes', () => {
    const plain = scanMonitor(path.join(dir, 'a'));
    expect([...plain.keys()].sort()).toEqual([path.join(dir, 'a/one.ini'), path.join(dir, 'a/two.ini')]);
    expect(plain.get(path.join(dir, 'a/one.ini'))).toBe(fs.statSync(path.join(dir, 'a/one.ini')).mtimeMs);
    expect(scanMonitor(`dir://${path.join(dir, 'a')}`)).toEqual(plain);
  });

  it('a glob (plain or glob://) yields the matching *.ini files; a missing directory yields none', () => {
    expect([...scanMonitor(path.join(dir, '*/one.ini')).keys()].sort()).toEqual([path.join(dir, 'a/one.ini'), path.join(dir, 'b/one.ini')]);
    expect(scanMonitor(`glob://${path.join(dir, 'b/*')}`).size).toBe(1);
    expect(scanMonitor(path.join(dir, 'nothing-here')).size).toBe(0);
  });

  it('the union of monitors keeps each config once', () => {
    expect(scanAll([path.join(dir, 'a'), path.join(dir, '*/one.ini')]).size).toBe(3);
  });
});

describe('vassal environment', () => {
  it('maps UWSGI_VASSAL_X to UWSGI_X, drops reload count, jail pid and NOTIFY_SOCKET, adds the pipe and the job', () => {
    const job = { config: '/v/a.ini', liege: '/bin/liege', hooks: [], ctx: { binsh: '/bin/sh', waitFsTimeout: 1, waitSocketTimeout: 1 } };
    const env = vassalEnv(job, { PATH: '/bin', UWSGI_VASSAL_PROCESSES: '4', UWSGI_RELOADS: '3', NOTIFY_SOCKET: '/run/n', UWSGI_JAIL_PID: '9' });
    expect(env.PATH).toBe('/bin');
    expect(env.UWSGI_PROCESSES).toBe('4');
    expect(env.UWSGI_VASSAL_PROCESSES).toBeUndefined();
    for (const k of ['UWSGI_RELOADS', 'NOTIFY_SOCKET', 'UWSGI_JAIL_PID']) expect(env[k]).toBeUndefined();
    expect(env[EMPEROR_FD_ENV]).toBe('3');
    expect(JSON.parse(env[VASSAL_ENV]!)).toEqual(job);
  });
});
