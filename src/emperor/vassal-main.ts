// The vassal launcher: forked by the emperor for each vassal, it runs
// vassals-start-hook (no shell) and the emperor's as-vassal hooks, then
// execs `liege --ini CONFIG` in place — so the hooks ran in the pid the
// vassal master keeps (uWSGI emperor.c). A failing as-vassal hook exits 1
// and the emperor respawns the vassal, throttled. Nothing else runs in this
// process: hooks take the startup (blocking) path.
import * as path from 'node:path';
import { ExitRequest } from '../hooks/actions/types';
import { HookFailure, runStartupPhase } from '../hooks/run';
import { planFromLines } from '../hooks/spec';
import { native } from '../os/native';
import { EMPEROR_FD, VASSAL_ENV, type VassalJob } from '../ipc/vassal';

function startHook(job: VassalJob): void {
  if (!job.startHook) return;
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

async function main(): Promise<number> {
  const job = JSON.parse(process.env[VASSAL_ENV]!) as VassalJob;
  delete process.env[VASSAL_ENV];
  startHook(job);
  try {
    await runStartupPhase(planFromLines(job.hooks, { startCwd: job.ctx.startCwd ?? process.cwd(), atLoad: false }), 'as-vassal', job.ctx);
  } catch (e) {
    if (e instanceof HookFailure) return 1;
    if (e instanceof ExitRequest) return e.status;
    throw e;
  }
  native.setCloexec(EMPEROR_FD, false);
  native.execv(process.execPath, [process.execPath, job.liege, '--ini', job.config]);
  return 111;
}

main().then((code) => (process.exitCode = code));
