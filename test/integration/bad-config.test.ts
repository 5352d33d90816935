// DEPARTURES D4/D7: every bad input stops liege at load with exit 1, naming
// file:line, the text and what was expected — and no hook ran.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runLiege, scratch, writeIni } from './helpers';

const dir = scratch();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// [name, bad line(s), what stderr must mention]
const CASES: Array<[string, string[], RegExp]> = [
  ['unknown option with suggestion', ['procesess = 4'], /unknown option `procesess` \(did you mean `processes`\?\)/],
  ['non-integer', ['processes = abc'], /bad value for `processes`.*processes = abc.*expected an integer/],
  ['negative integer', ['processes = -1'], /expected an integer from 0/],
  ['port above 65535', ['http-socket = 127.0.0.1:70000'], /port from 0 to 65535/],
  ['socket: a bare number', ['socket = 8080'], /a port needs its colon/],
  ['unknown unshare flag', ['unshare = uts,bogus'], /one or more of: ipc, net/],
  ['unknown capability', ['cap = sys_admin,flying'], /bad value for `cap`/],
  ['unknown hook action', ['hook-as-root = no_such_action:x'], /unknown hook action `no_such_action`/],
  ['hook without colon', ['hook-as-root = exec echo hi'], /invalid hook syntax.*expected \[!\]ACTION:ARGS/],
  ['unknown mount flag', ['hook-pre-jail = mount:tmpfs none /mnt nodev,bogus'], /known mount flags.*not "bogus"/],
  ['unknown mount flag in a shortcut', ['mount-as-root = tmpfs none /mnt bogus'], /not "bogus"/],
  ['unknown umount flag', ['umount-as-root = /mnt lazy'], /not "lazy"/],
  ['mount with too few arguments', ['hook-as-root = mount:tmpfs'], /FSTYPE SOURCE TARGET/],
  ['bad chmod mode', ['hook-as-root = chmod:/tmp/x 9z'], /FILE OCTAL-MODE/],
  ['bad exit status', ['hook-as-root = exit:forty'], /an exit status/],
  ['chown2 with names', ['hook-as-root = chown2:/tmp a b'], /UID GID/],
  ['callint with a word', ['hook-pre-app = callint:abs x'], /SYMBOL \[INTEGER\]/],
  ['unsupported rpc action', ['hook-asap = rpc:hello'], /not supported: uWSGI RPC/],
  ['bad unix_signal', ['hook-as-root = unix_signal:abc handler'], /SIGNUM SYMBOL/],
  ['bad hook in a non-fatal phase', ['hook-as-user-atexit = bogus:1'], /unknown hook action `bogus`/],
  ['unreadable include', ['ini = %dmissing.ini'], /unable to read config .*missing\.ini: ENOENT/],
  ['unreadable inherit', ['inherit = %dmissing-template.ini'], /missing-template\.ini: ENOENT/],
  ['unreadable @(file)', ['hook-asap = exec:echo @(%dno-such-file)'], /unable to read @\(/],
  ['logic block never closed', ['for = a b', 'hook-asap = exec:echo %(_)'], /`for` block is never closed/],
  ['nested logic blocks', ['if-env = PATH', 'for = a b', 'endfor ='], /nested logic block/],
  ['end without a block', ['endif ='], /without an open for-\*\/if-\* block/],
  ['set-placeholder on an option', ['set-placeholder = processes=3'], /cannot set the option `processes`/],
  ['set without =', ['set = novalue'], /needs KEY=VALUE/],
  // before: said at the bind, after the asap hooks ran
  ['chown-socket with an unknown user', ['chown-socket = nosuchuser-xyz:nogroup'], /unknown user `nosuchuser-xyz` in chown-socket/],
  ['chown-socket with an unknown group', ['chown-socket = nobody:nosuchgroup-xyz'], /unknown group `nosuchgroup-xyz` in chown-socket/],
  // before: "unknown option `[uwsgi`" (did you mean `wsgi`?); uWSGI silently skips the lines after it
  ['section header without ]', ['[uwsgi'], /a section header without its closing `\]`: `\[uwsgi` \(expected \[uwsgi\]\)/],
  // before: "unknown option `http-socket 127.0.0.1:8080`", no hint
  ['option without =', ['http-socket 127.0.0.1:8080'], /unknown option `http-socket 127\.0\.0\.1:8080` \(the `=` is missing: `http-socket = 127\.0\.0\.1:8080`\?\)/],
];

describe('a bad config exits 1 before any hook runs', () => {
  it.each(CASES)('%s', async (name, bad, message) => {
    const marker = path.join(dir, `ran-${name.replace(/\W+/g, '-')}`);
    const ini = writeIni(dir, ['no-server = true', `hook-asap = exec:touch ${marker}`, `hook-as-user-atexit = exec:touch ${marker}`, ...bad], `${name.replace(/\W+/g, '-')}.ini`);
    const r = await runLiege(['--ini', ini], { cwd: dir });
    expect(r.exitCode).toBe(1);
    // file:line of the first bad line (line 1 is [uwsgi], then 3 good lines)
    expect(r.stderr).toContain(`${path.basename(ini)}:5`);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/expected/);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('an unknown command-line option names the argument', async () => {
    const r = await runLiege(['--no-server', '--procesess', '4']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/command line: unknown option --procesess \(did you mean --processes\?\): `--procesess`/);
  });

  it('a flag whose value is no boolean word (`master = flase`, taken as true as uWSGI does) is said, naming file:line; the usual words are not', async () => {
    const ini = writeIni(dir, ['no-server = true', 'master = flase', 'vacuum = True', 'lazy-apps = 0', 'thunder-lock = yes'], 'flag-typo.ini');
    const r = await runLiege(['--ini', ini], { cwd: dir });
    expect(r.exitCode).toBe(0);
    // before: nothing said, the instance ran with a master
    const said = r.stderr.split('\n').filter((l) => /is taken as true/.test(l));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/`master = flase` is taken as true \(a flag is false only for false, off, no or 0, as uWSGI\) option=master at=\S*flag-typo\.ini:3/);
  });

  it('a node-app without a socket (an app that listens itself, as under PM2) is told which socket to add; under no-server, that it is not served', async () => {
    const app = path.join(dir, 'self-listening.js');
    fs.writeFileSync(app, "require('http').createServer((q, s) => s.end('ok')).listen(3000);\n");
    const r = await runLiege(['--master', '-p', '2', '--node-app', app, '--hook-asap', `exec:touch ${dir}/not-run`]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/node-app without a socket: liege binds the sockets its workers serve: `\S+self-listening\.js` \(expected http-socket = HOST:PORT \(the port the app listens on/);
    expect(r.stderr).not.toMatch(/no-server/);
    expect(fs.existsSync(`${dir}/not-run`)).toBe(false);
    const quiet = await runLiege(['--no-server', '--node-app', app]);
    expect(quiet.exitCode).toBe(0);
    expect(quiet.stderr).toMatch(/node-app is not served under no-server/);
  });

  it('nothing to run is refused at load', async () => {
    const r = await runLiege(['--hook-asap', `exec:touch ${dir}/nothing`]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/nothing to run/);
    expect(fs.existsSync(`${dir}/nothing`)).toBe(false);
  });
});
