// `liege --reload PIDFILE`, `--stop PIDFILE`, `--chain-reload PIDFILE`
// (uWSGI's convenience options): signal the master whose pid is in the file.
import * as fs from 'node:fs';
import { LiegeError } from '../errors';

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
  if (!/^\d+$/.test(text) || pid <= 1) throw new LiegeError('LIEGE_ERR_USAGE', `bad pidfile ${file}`, { text, expected: 'a process id' });
  try {
    process.kill(pid, SIGNAL[flag]);
  } catch (e) {
    throw new LiegeError('LIEGE_ERR_USAGE', `unable to signal pid ${pid} from ${file}: ${(e as NodeJS.ErrnoException).code}`, { text: file, expected: 'the pidfile of a running liege master' });
  }
  return 0;
}
