// The control commands that neither reload nor stop (fifo, touch files,
// SIGUSR1, the watchdog timer): each does its one thing and the loop goes on.
import type { LiegeError } from '../../errors';
import { log } from '../../log';
import { statsDocument } from '../control/stats';
import { reopenWorkerLogs } from '../log-reopen';
import { reopenLog } from '../logfile';
import { reopenLoggers } from '../loggers/open';
import { PIDFILES, writePidfile } from '../pidfile';
import type { Handlers } from './context';
import { sdNotify } from './readiness';

export const COMMAND_HANDLERS: Handlers = {
  'kill-worker': (m, _e, arg) => {
    const p = m.workers.proc(Number(arg));
    if (p) m.workers.kill(p, 'killed on request');
    return undefined;
  },
  'reopen-logs': (m) => {
    const l = log('master');
    try {
      const loggers = reopenLoggers();
      if (reopenLog()) l.info({ workers: reopenWorkerLogs(m.workers.all()), loggers: loggers || undefined }, 'log file reopened');
      else if (loggers) l.info({ loggers }, 'log files of the loggers reopened');
      else l.info('log reopen asked: no log file (logto, daemonize, logger = file:) to reopen, the master logs to its stderr');
    } catch (e) {
      l.error({ code: (e as LiegeError).code }, (e as Error).message);
    }
    return undefined;
  },
  pidfiles: (m) => {
    const cfg = m.run.cfg;
    if (!cfg) return undefined; // (the fallback)
    const l = log('master');
    try {
      for (const name of PIDFILES) writePidfile(cfg.setting(name), name.startsWith('safe'));
      if (!PIDFILES.some((n) => cfg.setting(n))) l.info('pidfiles asked: none configured (pidfile, pidfile2, safe-pidfile, safe-pidfile2)');
      else l.info('pidfiles written');
    } catch (e) {
      l.error({ code: (e as LiegeError).code }, (e as Error).message);
    }
    return undefined;
  },
  'stats-log': (m) => {
    log('master').info({ stats: statsDocument(m.stats) }, 'stats');
    return undefined;
  },
  pause: () => {
    log('master').warn('pause (fifo p) does not apply to Node workers: ignored');
    return undefined;
  },
  watchdog: () => {
    sdNotify({ WATCHDOG: 1 });
    return undefined;
  },
  ignore: () => undefined,
};
