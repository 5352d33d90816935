// What a vassal runs first, in its own pid, when the emperor has a
// vassals-start-hook (run without a shell, UWSGI_VASSALS_DIR set) or
// as-vassal hooks (the emperor's config): then the process goes on to
// become the instance, so the hooks ran in the pid the vassal keeps (uWSGI
// runs them in the forked child right before exec, emperor.c). A failing
// as-vassal hook ends the vassal with 1; the emperor respawns it, throttled.
import * as path from 'node:path';
import { ExitRequest } from '../hooks/actions/types';
import { HookFailure, runStartupPhase } from '../hooks/run';
import { planFromLines } from '../hooks/spec';
import { native } from '../os/native';
import { VASSAL_ENV, type VassalJob } from '../ipc/vassal';

/** Runs the prelude if the emperor sent one; resolves to an exit status to
 * end with. Nothing else runs yet: hooks take the startup (blocking) path. */
export async function runVassalPrelude(): Promise<number | undefined> {
  const raw = process.env[VASSAL_ENV];
  if (!raw) return undefined;
  delete process.env[VASSAL_ENV];
  const job = JSON.parse(raw) as VassalJob;
  if (job.startHook) {
    process.env.UWSGI_VASSALS_DIR = path.dirname(job.config);
    let failed: string | undefined;
    try {
      const [code, sig] = native.spawnWait(job.startHook, [job.startHook, job.config]);
      if (code !== 0 || sig) failed = sig ? `killed by signal ${sig}` : `exit status ${code}`;
    } catch (e) {
      failed = (e as Error).message; // could not be started: ENOENT, EACCES ...
    }
    delete process.env.UWSGI_VASSALS_DIR;
    if (failed) process.stderr.write(`liege: vassals-start-hook ${job.startHook} failed for ${job.config}: ${failed}\n`);
  }
  try {
    await runStartupPhase(planFromLines(job.hooks, { startCwd: job.ctx.startCwd ?? process.cwd(), atLoad: false }), 'as-vassal', job.ctx);
  } catch (e) {
    if (e instanceof HookFailure) return 1;
    if (e instanceof ExitRequest) return e.status;
    throw e;
  }
  return undefined;
}
