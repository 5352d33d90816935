// What the config does to the process before the first hook: env/unenv,
// umask, print, and UWSGI_RELOADS exported for hooks (0 on the first start);
// and after the asap hooks, max-fd.
import * as fs from 'node:fs';
import type { Config } from '../config/config';
import { LiegeError } from '../errors';
import { log } from '../log';
import { native } from '../os/native';

export function applyEnvironment(cfg: Config, reloads: number): void {
  process.env.UWSGI_RELOADS = String(reloads);
  for (const s of cfg.list('env')) {
    const eq = s.value.indexOf('=');
    if (eq > 0) process.env[s.value.slice(0, eq)] = s.value.slice(eq + 1);
  }
  for (const s of cfg.list('unenv')) delete process.env[s.value];
  const umask = cfg.str('umask');
  if (umask) process.umask(parseInt(umask, 8));
  for (const s of cfg.list('print')) process.stdout.write(s.value + '\n');
}

// why setrlimit refused: root is refused only above the kernel's ceiling
function nofileWhy(code: string): string {
  if (code === 'EINVAL' || (code === 'EPERM' && process.getuid?.() === 0)) return ` (above the kernel's fs.nr_open, ${nrOpen()})`;
  if (code === 'EPERM') return ' (raising the hard limit takes root; LimitNOFILE= under systemd)';
  return '';
}

function nrOpen(): string {
  try {
    return fs.readFileSync('/proc/sys/fs/nr_open', 'utf8').trim();
  } catch {
    return '?';
  }
}

/** max-fd: RLIMIT_NOFILE of the instance (inherited by hooks and workers).
 * A limit that cannot be set is said, not fatal (as uWSGI). */
export function applyMaxFd(cfg: Config): void {
  if (!cfg.has('max-fd')) return;
  const want = cfg.int('max-fd');
  const [soft, hard] = native.getNofile();
  if (soft === want && hard === want) return;
  try {
    native.setNofile(want);
    log('master').info({ max_fd: want }, `max file descriptors: ${want}`);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    log('master').error({ code: 'LIEGE_ERR_SYSCALL', errno: code, max_fd: want }, `unable to set max-fd to ${want}: ${code}${nofileWhy(code)}; the limit stays ${soft}/${hard}`);
  }
}

/** `chdir`, after the privilege drop (as uWSGI): a directory the dropped
 * user may not enter is the option's error, with the way out. */
export function applyChdir(cfg: Config): void {
  const dir = cfg.setting('chdir');
  if (!dir?.value) return;
  try {
    process.chdir(dir.value);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    const uid = process.getuid?.();
    const why = code === 'EACCES' && uid !== 0 ? ` (the master enters it after the privilege drop, as uid ${uid}: let that user enter it)` : '';
    throw new LiegeError('LIEGE_ERR_SYSCALL', `unable to chdir to ${dir.value}: ${code}${why}`, { origin: dir.origin, text: dir.value, expected: 'a directory the master may enter', cause: e });
  }
}
