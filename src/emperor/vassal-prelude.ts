// What a vassal runs first, in its own pid, when the emperor has a
// vassals-start-hook (run without a shell, UWSGI_VASSALS_DIR set) or
// as-vassal hooks (the emperor's config): then the process goes on to
// become the instance, so the hooks ran in the pid the vassal keeps (uWSGI
// runs them in the forked child right before exec, emperor.c). A failing
// as-vassal hook ends the vassal with 1; the emperor respawns it, throttled.
import * as path from 'node:path';
import { HookFailure, runPhase } from '../hooks/run';
import { planFromLines } from '../hooks/spec';
import { native } from '../os/native';
import { VASSAL_ENV, type VassalJob } from '../ipc/vassal';

/** Runs the prelude if the emperor sent one; returns an exit status to end with. */
export function runVassalPrelude(): number | undefined {
  const raw = process.env[VASSAL_ENV];
  if (!raw) return undefined;
  delete process.env[VASSAL_ENV];
  const job = JSON.parse(raw) as VassalJob;
  if (job.startHook) {
    process.env.UWSGI_VASSALS_DIR = path.dirname(job.config);
    const [code, sig] = native.spawnWait(job.startHook, [job.startHook, job.config]);
    delete process.env.UWSGI_VASSALS_DIR;
    if (code !== 0 || sig) process.stderr.write(`liege: vassals-start-hook ${job.startHook} failed for ${job.config}\n`);
  }
  try {
    runPhase(planFromLines(job.hooks), 'as-vassal', job.ctx);
  } catch (e) {
    if (e instanceof HookFailure) return 1;
    throw e;
  }
  return undefined;
}
