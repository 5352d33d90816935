// What the config does to the process before the first hook: env/unenv,
// umask, print, and UWSGI_RELOADS exported for hooks (0 on the first start).
import type { Config } from '../config/config';

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
