// vassals-stop-hook: `HOOK CONFIG` after a vassal that ran is gone, in the
// emperor, with UWSGI_VASSALS_DIR set (uWSGI runs it without a shell). The
// loop never awaits it (DESIGN: loops never block); a failure is logged.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { log } from '../log';
import type { Vassal } from './vassal';

/** Runs the hook for `v` (nothing when unset or the vassal never ran); resolves when it ended. */
export function runStopHook(hook: string | undefined, v: Vassal): Promise<void> {
  if (!hook || !v.firstRun) return Promise.resolve();
  const l = log('emperor');
  return new Promise((resolve) => {
    const c = spawn(hook, [v.desired.config], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, UWSGI_VASSALS_DIR: path.dirname(v.desired.config) } });
    c.on('error', (e) => { l.warn({ vassal: v.name, hook, error: e.message }, 'vassals-stop-hook failed'); resolve(); });
    c.on('exit', (code) => { if (code) l.warn({ vassal: v.name, hook, code }, 'vassals-stop-hook failed'); resolve(); });
  });
}
