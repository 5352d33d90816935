// Filesystem actions: cd, mkdir, putenv, chmod, chown, chown2, sticky,
// create, write(n), append(n), writefifo, spinningfifo, unlink. No shell.
import * as fs from 'node:fs';
import { lookupGroup, lookupUser } from '../../os/privileges';
import { sleepMs } from '../../os/sleep';
import { defineAction, needArg, splitFirst } from './types';

const path1 = (a: string) => needArg(a, 'a path');
const pathText = (a: string) => {
  const [file, text] = splitFirst(needArg(a, 'FILE TEXT'));
  return { file, text: text ?? '' };
};
// write/writen/append: uWSGI refuses a line without the space before TEXT
const pathAndText = (a: string) => {
  const [file, text] = splitFirst(a);
  if (file === '' || text === undefined) throw 'FILE TEXT (a space after the file, then the text)';
  return { file, text };
};
const ok = (f: () => unknown) => (f(), 0);

function writeFile(file: string, text: string, flag: 'w' | 'a'): number {
  const fd = fs.openSync(file, flag, 0o666);
  try { fs.writeSync(fd, text); } finally { fs.closeSync(fd); }
  return 0;
}

// writefifo: O_NONBLOCK; no reader yet (ENXIO) counts as success.
function writeFifo(file: string, text: string, spin: boolean): number {
  for (;;) {
    try {
      const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
      try { fs.writeSync(fd, text); } finally { fs.closeSync(fd); }
      return 0;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (!spin && (code === 'ENXIO' || code === 'ENODEV')) return 0;
      if (!spin || !(code === 'ENOENT' || code === 'ENXIO' || code === 'ENODEV')) throw e;
      sleepMs(1000);
    }
  }
}

export const fileActions = [
  defineAction({ name: 'cd', aliases: ['chdir'], parse: path1, run: (d) => ok(() => process.chdir(d)), doc: 'chdir(2)', example: 'hook-as-user = cd:/srv/app' }),
  defineAction({ name: 'mkdir', parse: path1, run: (d) => ok(() => fs.mkdirSync(d, 0o777)), doc: 'mkdir(2) mode 0777 minus umask; fails if it exists', example: 'hook-asap = mkdir:/run/app' }),
  defineAction({
    name: 'putenv',
    parse: (a) => { if (!a.includes('=')) throw 'KEY=VALUE'; return a; },
    run: (kv) => ok(() => { const i = kv.indexOf('='); process.env[kv.slice(0, i)] = kv.slice(i + 1); }),
    doc: 'set an environment variable for later hooks and the app', example: 'hook-pre-app = putenv:NODE_ENV=production',
  }),
  defineAction({
    name: 'chmod',
    parse: (a) => { const [file, mode] = splitFirst(a); if (!mode || !/^[0-7]{1,4}$/.test(mode.trim())) throw 'FILE OCTAL-MODE'; return { file, mode: parseInt(mode, 8) }; },
    run: (p) => ok(() => fs.chmodSync(p.file, p.mode)), doc: 'chmod(2), mode in octal', example: 'hook-as-root = chmod:/run/app 0750',
  }),
  defineAction({
    name: 'chown',
    parse: (a) => { const p = a.split(' '); if (p.length !== 3 || p.some((x) => !x)) throw 'FILE USER GROUP'; return { file: p[0]!, user: p[1]!, group: p[2]! }; },
    run: (p) => {
      const u = lookupUser(p.user), g = lookupGroup(p.group);
      if (u === undefined || g === undefined) return 1;
      fs.chownSync(p.file, u.uid, g);
      return 0;
    },
    doc: 'chown(2) by user and group names', example: 'hook-as-root = chown:/run/app www-data www-data',
  }),
  defineAction({
    name: 'chown2',
    parse: (a) => { const p = a.split(' '); if (p.length !== 3 || !/^\d+$/.test(p[1]!) || !/^\d+$/.test(p[2]!)) throw 'FILE UID GID (numbers)'; return { file: p[0]!, uid: Number(p[1]), gid: Number(p[2]) }; },
    run: (p) => ok(() => fs.chownSync(p.file, p.uid, p.gid)), doc: 'chown(2) by numeric uid and gid', example: 'hook-as-root = chown2:/run/app 33 33',
  }),
  defineAction({ name: 'sticky', parse: path1, run: (f) => ok(() => fs.chmodSync(f, fs.statSync(f).mode | 0o1000)), doc: 'add the sticky bit', example: 'hook-as-root = sticky:/srv/shared' }),
  defineAction({ name: 'create', aliases: ['creat'], parse: path1, run: (f) => ok(() => fs.closeSync(fs.openSync(f, 'w', 0o666))), doc: 'create or truncate a file', example: 'hook-as-user = create:/run/app/ready' }),
  defineAction({ name: 'write', parse: pathAndText, run: (p) => writeFile(p.file, p.text, 'w'), doc: 'truncate FILE and write TEXT', example: 'hook-as-root = write:/proc/sys/net/core/somaxconn 4096' }),
  defineAction({ name: 'writen', parse: pathAndText, run: (p) => writeFile(p.file, p.text + '\n', 'w'), doc: 'like write, adds a newline', example: 'hook-pre-app = writen:/run/app/state starting' }),
  defineAction({ name: 'append', parse: pathAndText, run: (p) => writeFile(p.file, p.text, 'a'), doc: 'append TEXT to FILE', example: 'hook-pre-app = append:/var/log/app.log started' }),
  defineAction({ name: 'appendn', parse: pathText, run: (p) => writeFile(p.file, p.text + '\n', 'a'), doc: 'append TEXT and a newline (FILE alone: a newline)', example: 'hook-post-app = appendn:/var/log/app.log app loaded' }),
  defineAction({ name: 'writefifo', parse: pathText, run: (p) => writeFifo(p.file, p.text, false), doc: 'write TEXT to a FIFO without blocking; no reader is not a failure', example: 'hook-accepting1-once = writefifo:/run/app/old.fifo q' }),
  defineAction({ name: 'spinningfifo', parse: pathText, run: (p) => writeFifo(p.file, p.text, true), doc: 'like writefifo, retrying every second until the FIFO exists and has a reader', example: 'hook-accepting1-once = spinningfifo:/run/app/old.fifo q' }),
  defineAction({ name: 'unlink', parse: path1, run: (f) => ok(() => fs.unlinkSync(f)), doc: 'unlink(2)', example: 'hook-as-user-atexit = unlink:/run/app/ready' }),
];
