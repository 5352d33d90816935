// What the master tells each worker about serving: its sockets, the app
// (an absolute path), the request log, the listen timeout, the log format.
import type { Config } from '../config/config';
import type { SocketInfo, WorkerSpec } from '../ipc/worker';
import { logDate, logDateStrftime, logFormat } from '../log';
import { appBase, resolveApp } from './app-path';
import { socketInfos, type BoundSocket } from './sockets';

export type ServingSpec = Pick<WorkerSpec, 'app' | 'cwd' | 'sockets' | 'listenTimeoutMs' | 'requestLog' | 'logFormat' | 'logDate' | 'procname'>;

export function servingSpec(cfg: Config, sockets: BoundSocket[]): ServingSpec {
  const app = cfg.str('node-app');
  const base = appBase(cfg);
  return {
    app: app ? resolveApp(app, base) : undefined,
    cwd: base,
    sockets: socketInfos(sockets).map((s) => withTimeout(s, cfg.int('socket-timeout') * 1000)),
    listenTimeoutMs: cfg.int('app-listen-timeout') * 1000,
    requestLog: {
      disabled: cfg.bool('disable-logging'),
      log4xx: cfg.bool('log-4xx'),
      log5xx: cfg.bool('log-5xx'),
      slowMs: cfg.int('log-slow'),
      forwardedFor: cfg.bool('log-x-forwarded-for'),
      format: requestLogFormat(cfg),
      ftime: ftimeFormat(cfg),
    },
    logFormat: logFormat(),
    logDate: logDate(),
    procname: workerTitle(cfg),
  };
}

// uWSGI's logformat; log-format sets it too when it is not text or json
function requestLogFormat(cfg: Config): string | undefined {
  if (cfg.has('logformat')) return cfg.str('logformat');
  const format = cfg.str('log-format');
  if (format === 'text' || format === 'json') return undefined;
  return format;
}

// logformat-strftime: %(ftime) in log-date's strftime format (else as ltime)
function ftimeFormat(cfg: Config): string | undefined {
  if (!cfg.bool('logformat-strftime')) return undefined;
  return logDateStrftime();
}

/** A uwsgi socket's packet deadline (a client that never sends a whole
 * packet would hold a connection forever: uWSGI's socket-timeout). */
function withTimeout(s: SocketInfo, ms: number): SocketInfo {
  if (s.proto !== 'uwsgi') return s;
  return { ...s, packetTimeoutMs: ms };
}

/** The worker process title (procname-prefix + procname, or auto-procname). */
function workerTitle(cfg: Config): string | undefined {
  const prefix = cfg.str('procname-prefix') ?? (cfg.has('procname-prefix-spaced') ? `${cfg.str('procname-prefix-spaced')} ` : '');
  if (cfg.has('procname')) return `${prefix}${cfg.str('procname')}`;
  if (cfg.bool('auto-procname')) return `${prefix}liege worker %w`;
  return prefix ? `${prefix}${process.argv.slice(1).join(' ')}` : undefined;
}

/** The master's process title, if one is configured. */
export function masterTitle(cfg: Config): string | undefined {
  const prefix = cfg.str('procname-prefix') ?? (cfg.has('procname-prefix-spaced') ? `${cfg.str('procname-prefix-spaced')} ` : '');
  if (cfg.has('procname-master')) return `${prefix}${cfg.str('procname-master')}`;
  if (cfg.bool('auto-procname')) return `${prefix}liege master`;
  if (cfg.has('procname')) return `${prefix}${cfg.str('procname')}`;
  return prefix ? `${prefix}liege master` : undefined;
}
