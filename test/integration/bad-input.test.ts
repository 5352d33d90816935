// Issue 6: no input hangs or crashes liege. Every bad config, argv or env
// below exits 1 naming file:line (or the argument as typed), the text and
// what was expected; no hook ran (an asap hook would have created a
// marker); no stack trace.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runLiege, scratch } from './helpers';

const dir = scratch();
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const slug = (s: string) => s.replace(/\W+/g, '-');
const write = (name: string, text: string | Buffer) => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
};
// a directory with its own etc/passwd: names resolve there after chroot
const jail = path.join(dir, 'jail');
fs.mkdirSync(path.join(jail, 'etc'), { recursive: true });
fs.writeFileSync(path.join(jail, 'etc', 'passwd'), 'app:x:1234:1234::/:/bin/sh\n');
fs.writeFileSync(path.join(jail, 'etc', 'group'), 'app:x:1234:\n');
// an include cycle a → b → a, a chain 20 deep, a fan-out 2^12
write('cycle-a.ini', '[uwsgi]\nini = cycle-b.ini\n');
write('cycle-b.ini', '[uwsgi]\n\nini = cycle-a.ini\n');
for (let i = 0; i < 20; i++) write(`deep${i}.ini`, `[uwsgi]\nini = deep${i + 1}.ini\n`);
write('deep20.ini', '[uwsgi]\n');
for (let i = 0; i < 12; i++) write(`fan${i}.ini`, `[uwsgi]\nini = fan${i + 1}.ini\nini = fan${i + 1}.ini\n`);
write('fan12.ini', '[uwsgi]\n');
write('inherit-a.ini', '[uwsgi]\ninherit = inherit-b.ini\n');
write('inherit-b.ini', '[uwsgi]\ninherit = inherit-a.ini\n');
write('nul.txt', 'echo a\0b');
write('lines.txt', 'x\n');

interface IniCase {
  name: string;
  lines: string[]; // after [uwsgi], no-server and the two marker hooks: the first is line 5
  message: RegExp;
  at?: string; // default: <file>:5
  raw?: Buffer; // a whole file instead of lines
}

const INI: IniCase[] = [
  { name: 'negative harakiri', lines: ['harakiri = -5'], message: /bad value for `harakiri`.*harakiri = -5.*expected an integer from 0/ },
  { name: 'for-times not a number', lines: ['for-times = abc', 'endfor ='], message: /bad value for `for-times`.*expected an integer from 0 to 100000/ },
  { name: 'for-times too large', lines: ['for-times = 99999999999999999999', 'endfor ='], message: /for-times = 99999999999999999999.*an integer from 0 to 100000/ },
  { name: 'for-readline of a missing file', lines: ['for-readline = /nonexistent', 'endfor ='], message: /unable to read \/nonexistent: ENOENT.*expected a readable file/ },
  { name: 'for-readline of /dev/zero', lines: ['for-readline = /dev/zero', 'endfor ='], message: /larger than \d+ bytes/ },
  { name: 'hex umask', lines: ['umask = 0x1F'], message: /bad value for `umask`.*an octal mode/ },
  { name: 'umask above 777', lines: ['umask = 1777'], message: /an octal mode from 000 to 777/ },
  { name: 'write without text', lines: ['hook-asap = write:/tmp/liege-nothing'], message: /bad arguments for hook action `write`.*FILE TEXT/ },
  { name: 'writen without text', lines: ['hook-as-root = writen:/tmp/liege-nothing'], message: /FILE TEXT/ },
  { name: 'exit status 256', lines: ['hook-asap = exit:256'], message: /exit:256.*an exit status \(0-255\)/ },
  { name: 'empty exec', lines: ['hook-asap = exec:'], message: /a shell command/ },
  { name: 'bad private hook', lines: ['hook-asap = !nope:x'], message: /unknown hook action `nope`/ },
  { name: 'bad hook in a false if-env block', lines: ['if-env = LIEGE_TEST_NEVER_SET', 'hook-asap = bogus:1', 'endif ='], at: ':6', message: /unknown hook action `bogus`/ },
  { name: 'exit:256 in a false if-exists block', lines: ['if-exists = /nonexistent-liege', 'hook-as-root = exit:256', 'endif ='], at: ':6', message: /an exit status/ },
  { name: 'typo in a false if-not-exists block', lines: ['if-not-exists = /', 'procesess = 2', 'endif ='], at: ':6', message: /unknown option `procesess` \(did you mean `processes`\?\)/ },
  { name: 'bad value in a false if-opt block', lines: ['if-opt = chroot', 'processes = abc', 'endif ='], at: ':6', message: /bad value for `processes`/ },
  { name: 'bad hook in an empty for-times loop', lines: ['for-times = 0', 'hook-asap = write:/x', 'endfor ='], at: ':6', message: /FILE TEXT/ },
  { name: 'unknown user', lines: ['uid = liege_no_such_user'], message: /unknown user `liege_no_such_user`.*a user of \/etc\/passwd or a number/ },
  { name: 'unknown group', lines: ['gid = liege_no_such_group'], message: /unknown group `liege_no_such_group`/ },
  { name: 'unknown add-gid', lines: ['add-gid = liege_no_such_group'], message: /unknown group/ },
  { name: 'user unknown inside the chroot', lines: [`chroot = ${jail}`, 'uid = nobody'], at: ':6', message: /unknown user `nobody`.*jail\/etc\/passwd/ },
  { name: 'group unknown inside the chroot', lines: [`chroot = ${jail}`, 'uid = app', 'gid = nogroup'], at: ':7', message: /unknown group `nogroup`.*jail\/etc\/group/ },
  { name: 'malformed uid', lines: ['uid = a b'], message: /a user\/group name or a number/ },
  { name: 'pivot-root with one path', lines: ['pivot-root = /new'], message: /NEW_ROOT OLD_ROOT/ },
  { name: 'pivot-root with two spaces', lines: ['pivot-root = /new  /new/old'], message: /NEW_ROOT OLD_ROOT/ },
  { name: 'namespace without rootfs', lines: ['namespace = :host'], message: /ROOTFS\[:HOSTNAME\]/ },
  { name: 'namespace with a bad hostname', lines: ['namespace = /ns:bad_host!'], message: /hostname of letters/ },
  { name: 'namespace-keep-mount with an empty side', lines: ['namespace-keep-mount = /a:'], message: /PATH or SRC:DST/ },
  { name: 'namespace-net not a boolean', lines: ['namespace-net = maybe'], message: /true or false/ },
  { name: 'unknown capability', lines: ['cap = flying'], message: /one or more of: chown/ },
  { name: 'unknown unshare word', lines: ['unshare = net,bogus'], message: /one or more of: ipc/ },
  { name: 'bad mount flag', lines: ['mount-asap = tmpfs none /mnt bogus'], message: /not "bogus"/ },
  { name: 'self-include', lines: ['ini = %p'], message: /config include cycle: .*:5 → .*self-include\.ini/ },
  { name: 'include cycle', lines: ['ini = %dcycle-a.ini'], message: /config include cycle: .*:5 → .*cycle-a\.ini:2 → .*cycle-b\.ini:3 → .*cycle-a\.ini/ },
  { name: 'includes 20 deep', lines: ['ini = %ddeep0.ini'], at: 'deep', message: /config includes nest deeper than 16/ },
  { name: 'include fan-out', lines: ['ini = %dfan0.ini'], at: 'fan', message: /more than 1024 config files read/ },
  { name: '/dev/zero as an include', lines: ['ini = /dev/zero'], message: /larger than \d+ bytes in all \(reading \/dev\/zero\)/ },
  { name: '@(/dev/zero)', lines: ['print = @(/dev/zero)'], message: /larger than \d+ bytes/ },
  { name: 'endless exec:// include', lines: ['ini = exec://yes'], message: /larger than \d+ bytes/ },
  { name: 'inherit of itself', lines: ['inherit = %p'], message: /`inherit` loop/ },
  { name: 'inherit loop', lines: ['inherit = %dinherit-a.ini'], at: 'inherit-', message: /`inherit` loop/ },
  { name: 'NUL byte in a hook line', lines: ['hook-asap = exec:echo a\0b'], message: /a NUL byte in the config/ },
  { name: 'NUL byte through @(file)', lines: ['hook-asap = exec:@(%dnul.txt)'], message: /without NUL bytes/ },
  { name: 'XML config option', lines: ['xml = app.xml'], message: /liege reads INI only/ },
  { name: 'YAML include', lines: ['ini = app.yaml'], message: /liege reads INI configs only/ },
  { name: 'typo of a uWSGI option', lines: ['lazy-appz = true'], message: /unknown option `lazy-appz` \(did you mean `lazy-apps`\?\)/ },
  { name: 'bad hostname regexp', lines: ['if-hostname-match = (', 'endif ='], message: /a valid regular expression/ },
  { name: 'processes above the range', lines: ['processes = 5000'], message: /an integer from 0 to 4096/ },
  { name: 'optional int not a number', lines: ['ksm = often'], message: /bad value for `ksm`/ },
  { name: 'ignored int option with a word', lines: ['max-requests = lots'], message: /bad value for `max-requests`.*an integer/ },
  { name: 'emperor-freq zero', lines: ['emperor-freq = 0'], message: /an integer from 1/ },
  { name: 'fractional timeout', lines: ['wait-for-fs-timeout = 1.5'], message: /an integer/ },
  { name: 'empty chdir', lines: ['chdir ='], message: /bad value for `chdir`.*expected a value/ },
  { name: 'empty attach-daemon', lines: ['attach-daemon ='], message: /expected a value/ },
  { name: 'for without words', lines: ['for =', 'endfor ='], message: /bad value for `for`/ },
  { name: 'CR-only line endings', lines: [], raw: Buffer.from('[uwsgi]\rno-server = true\r'), at: ':1', message: /a carriage return that does not end a CRLF line/ },
  { name: 'a lone CR inside a line', lines: ['print = a\rb'], message: /a carriage return/ },
  // a stray control byte or a terminal escape sequence is shown as \xNN, never sent to the terminal
  { name: 'a control byte in an option name', lines: ['mas\x01ter = true'], message: /unknown option `mas\\x01ter`/ },
  { name: 'an escape sequence in a value', lines: ['processes = \x1b[31mred'], message: /`processes = \\x1b\[31mred`/ },
];

function iniFile(c: IniCase, marker: string): string {
  const name = `${slug(c.name)}.ini`;
  if (c.raw) return write(name, c.raw);
  return write(name, ['[uwsgi]', 'no-server = true', `hook-asap = exec:touch ${marker}`, `hook-as-user-atexit = exec:touch ${marker}`, ...c.lines].join('\n') + '\n');
}

function expectRejected(r: { exitCode?: number; stderr: string }, at: string, message: RegExp, marker: string): void {
  expect(r.exitCode, r.stderr).toBe(1);
  expect(r.stderr).toContain(at);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).toMatch(/expected/);
  expect(r.stderr).not.toMatch(/^\s+at /m); // no stack trace
  expect(r.stderr).not.toMatch(/internal error/);
  expect(r.stderr).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/); // nothing raw for the terminal
  expect(fs.existsSync(marker)).toBe(false);
}

describe('bad configs are rejected at load, before any hook', () => {
  it.each(INI.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const marker = path.join(dir, `ran-${slug(c.name)}`);
    const ini = iniFile(c, marker);
    const r = await runLiege(['--ini', ini], { cwd: dir });
    const at = c.at === undefined ? `${path.basename(ini)}:5` : c.at.startsWith(':') ? `${path.basename(ini)}${c.at}` : c.at;
    expectRejected(r, at, c.message, marker);
  });
});

// [name, argv (after --no-server and the marker hook), env, the argument as typed, message]
const ARGV: Array<[string, string[], Record<string, string>, string, RegExp]> = [
  ['-p abc', ['-p', 'abc'], {}, '`-p abc`', /bad value for `processes`.*an integer/],
  ['--processes=abc', ['--processes=abc'], {}, '`--processes=abc`', /bad value for `processes`/],
  ['-pabc', ['-pabc'], {}, '`-pabc`', /bad value for `processes`/],
  ['a flag does not eat the bad value after it', ['--vacuum', '-p', 'abc'], {}, '`-p abc`', /bad value for `processes`/],
  ['--harakiri -5', ['--harakiri', '-5'], {}, '`--harakiri -5`', /an integer from 0/],
  ['--umask 0x1F', ['--umask', '0x1F'], {}, '`--umask 0x1F`', /an octal mode/],
  ['--for-times abc', ['--for-times', 'abc', '--endfor'], {}, '`--for-times abc`', /an integer from 0 to 100000/],
  ['--hook-asap exit:256', ['--hook-asap', 'exit:256'], {}, '`--hook-asap exit:256`', /an exit status/],
  ['--hook-asap write:/x', ['--hook-asap', 'write:/x'], {}, '`--hook-asap write:/x`', /FILE TEXT/],
  ['a missing value', ['--processes'], {}, '`--processes`', /option --processes needs a value/],
  ['an unknown short option', ['-X'], {}, '`-X`', /unknown option -X/],
  ['an unknown long option', ['--lazy-appz'], {}, '`--lazy-appz`', /unknown option --lazy-appz \(did you mean --lazy-apps\?\)/],
  ['--uid of nobody known', ['--uid', 'liege_no_such_user'], {}, '`--uid liege_no_such_user`', /unknown user/],
  ['--ini /dev/zero', ['--ini', '/dev/zero'], {}, '`--ini /dev/zero`', /larger than \d+ bytes/],
  ['--set without =', ['--set', 'novalue'], {}, '`--set novalue`', /needs KEY=VALUE/],
  // before: "unable to read config 660: ENOENT" (uWSGI's getopt reads it as a config file)
  ['an optional value without =', ['--chmod-socket', '660'], {}, '`--chmod-socket 660`', /--chmod-socket takes its value only as --chmod-socket=VALUE .*expected --chmod-socket=660/],
  ['a missing config file', ['no-such-liege.ini'], {}, '`no-such-liege.ini`', /unable to read config no-such-liege\.ini: ENOENT/],
  ['UWSGI_PROCESSES=abc', [], { UWSGI_PROCESSES: 'abc' }, '`UWSGI_PROCESSES=abc`', /environment UWSGI_PROCESSES.*bad value for `processes`/],
  ['LIEGE_UMASK=999', [], { LIEGE_UMASK: '999' }, '`LIEGE_UMASK=999`', /an octal mode/],
];

describe('bad argv and env are rejected, quoting the argument as typed', () => {
  it.each(ARGV)('%s', async (name, argv, env, typed, message) => {
    const marker = path.join(dir, `ran-argv-${slug(name)}`);
    const r = await runLiege(['--no-server', '--hook-asap', `exec:touch ${marker}`, ...argv], { cwd: dir, env });
    expectRejected(r, typed, message, marker);
  });
});
