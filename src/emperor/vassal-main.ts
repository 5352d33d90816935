// The vassal launcher: forked by the emperor for each vassal, it runs
// vassals-start-hook (no shell) and the emperor's as-vassal hooks, then
// execs `liege --ini CONFIG` in place — so the hooks ran in the pid the
// vassal master keeps (uWSGI emperor.c). A failing as-vassal hook exits 1
// and the emperor respawns the vassal, throttled.
import * as path from 'node:path';
import { HookFailure, runPhase } from '../hooks/run';
import { planFromLines } from '../hooks/spec';
import { native } from '../os/native';
import { EMPEROR_FD, VASSAL_ENV, type VassalJob } from '../ipc/vassal';

function main(): number {
  const job = JSON.parse(process.env[VASSAL_ENV]!) as VassalJob;
  delete process.env[VASSAL_ENV];
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
  native.setCloexec(EMPEROR_FD, false);
  native.execv(process.execPath, [process.execPath, job.liege, '--ini', job.config]);
  return 111;
}

process.exitCode = main();
