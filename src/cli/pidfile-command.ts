// `liege --reload PIDFILE`, `--stop PIDFILE`, `--chain-reload PIDFILE`
// (uWSGI's convenience options): signal the master whose pid is in the file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LiegeError } from '../errors';
import { processExe, processStartMs } from '../os/proc-identity';

const SIGNAL: Record<string, NodeJS.Signals> = {
  '--reload': 'SIGHUP', // graceful reload
  '--stop': 'SIGTERM', // graceful stop (DEPARTURES D2)
  '--chain-reload': 'SIGUSR2', // workers one at a time
};

export const PIDFILE_COMMANDS = Object.keys(SIGNAL);

export function pidfileCommand(flag: string, argv: string[]): number {
  const file = argv[0];
  if (!file || argv.length > 1) throw new LiegeError('LIEGE_ERR_USAGE', `usage: liege ${flag} PIDFILE`, { text: [flag, ...argv].join(' '), expected: 'exactly one pidfile' });
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new LiegeError('LIEGE_ERR_USAGE', `unable to read the pidfile ${file}: ${(e as NodeJS.ErrnoException).code}`, { text: file, expected: 'the pidfile of a running liege master' });
  }
  const pid = Number(text);
  // 0 would signal our own process group; 1 is a liege master that is a
  // container's PID 1 (`docker exec … liege --reload`), checked as any pid
  if (!/^\d+$/.test(text) || pid < 1) throw new LiegeError('LIEGE_ERR_USAGE', `bad pidfile ${file}`, { text, expected: 'a process id' });
  checkWriter(file, pid);
  try {
    process.kill(pid, SIGNAL[flag]);
    // a stopped master (SIGSTOP, a debugger that let go) would keep the
    // SIGTERM pending forever: continue it, as systemd does after a stop's
    // SIGTERM (a reload leaves a paused master paused)
  } catch (e) {
    throw new LiegeError('LIEGE_ERR_USAGE', `unable to signal pid ${pid} from ${file}: ${(e as NodeJS.ErrnoException).code}`, { text: file, expected: 'the pidfile of a running liege master' });
  }
  try {
    if (flag === '--stop') process.kill(pid, 'SIGCONT');
  } catch { /* it ended already */ }
  return 0;
}

// The master writes its pidfile itself, after it started: a process that
// started later cannot have written it (the master died, its pid was
// reused: after a crash, after a reboot), and a master runs Node. Either
// way the pid is not signalled (uWSGI's --stop would kill whatever it is).
// The start time is read against the wall clock now, the file's time was
// the wall clock then: a clock stepped forward in between (a VM whose clock
// NTP corrects after boot, when the master started) moves the start later.
// The margin tolerates such steps (a reused pid is usually hours or a
// reboot later; logrotate's `--reload PIDFILE` must not fail on a live master).
function checkWriter(file: string, pid: number): void {
  const expected = 'the pidfile of a running liege master';
  const exe = processExe(pid);
  // PID 1 only when it is seen to run Node: init is never signalled on a
  // guess (systemd takes SIGTERM as "re-execute yourself")
  if (pid === 1 && exe === undefined) {
    throw new LiegeError('LIEGE_ERR_USAGE', `pid 1 from ${file} is not a liege master, as far as this user can tell (its executable is unreadable)`, { text: file, expected });
  }
  if (exe !== undefined && !isNode(exe)) {
    throw new LiegeError('LIEGE_ERR_USAGE', `pid ${pid} from ${file} is not a liege master: it runs ${exe}`, { text: file, expected });
  }
  const started = processStartMs(pid);
  let written: number;
  try {
    written = fs.statSync(file).mtimeMs;
  } catch {
    return;
  }
  if (started !== undefined && started > written + START_MARGIN_MS) {
    const ago = Math.round((Date.now() - written) / 1000);
    throw new LiegeError('LIEGE_ERR_USAGE', `pid ${pid} from ${file} is not the liege master that wrote it: it started after the file was written (${ago} s ago; a stale pidfile, its pid reused)`, { text: file, expected });
  }
}

const START_MARGIN_MS = 10 * 60_000;

function isNode(exe: string): boolean {
  const name = path.basename(exe);
  return /node/i.test(name) || name === path.basename(process.execPath);
}
