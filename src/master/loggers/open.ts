// The loggers of an instance (logger, req-logger, log-route, log-req-route;
// config/logger-spec.ts reads and checks them at load): opened by the
// master where it opens logto, before the privilege drop, and from then on
// liege's own lines and the workers' (log-master, which they imply) go to
// them (log.ts setLineRouters). A file logger's fd crosses a reload's
// re-exec (LOGGER_FILES_ENV), as fds 1 and 2 do for logto: the new image,
// which runs as the dropped user, adopts it (and reopens it with
// log-reopen) instead of opening a file it may not be allowed to create.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { Config, Setting } from '../../config/config';
import { fileLoggerArgs, loggerSettings, parseLogger, parseRoute, socketLoggerTarget, syslogLoggerArgs, type LoggerSpec } from '../../config/logger-spec';
import { LiegeError, shownValue } from '../../errors';
import { log, setLineRouters } from '../../log';
import { native } from '../../os/native';
import { compileEncoders } from '../log-encoders';
import { DatagramSink, socketFrame, syslogFrame, type Target } from './datagram-sink';
import { FdSink, FileSink, type Sink } from './file-sink';
import { openLogFile } from '../../os/log-writer';
import { router, type Out, type Table } from './router';

// node:dns only for a socket logger named by its host: loaded at start, its
// c-ares binding would cost every master ~0.2 MiB of RSS (bench/README.md)
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dns = () => require('node:dns/promises') as typeof import('node:dns/promises');

const LOGGER_FILES_ENV = 'LIEGE_LOGGER_FILES';
// glibc's _PATH_LOG: where syslog(3), and so uWSGI's syslog plugin, sends
const SYSLOG_PATH = '/dev/log';

let files = new Map<string, FileSink>(); // by absolute path
let all: Sink[] = [];
let exitHook = false;

/** Opens the config's loggers and sends lines to them; nothing when it has none. */
export async function openLoggers(cfg: Config, reloads: number): Promise<void> {
  const inherited = takeInheritedFiles();
  const main = loggerSettings(cfg);
  const req = cfg.list('req-logger');
  try {
    if (main.length === 0 && req.length === 0) return;
    const opened = new Map<string, Sink>(); // one sink per destination, whoever names it
    const sinkOf = async (s: Setting, spec: LoggerSpec, option: string) => {
      const key = destinationKey(spec);
      let sink = opened.get(key);
      if (!sink) {
        sink = await openSink(spec, key, inherited, cfg.bool('log-reopen') && reloads > 0, s, option);
        opened.set(key, sink);
      }
      return sink;
    };
    const mainTable = await table(main, 'logger', cfg.list('log-route'), cfg.list('log-encoder').map((e) => e.value), sinkOf);
    const reqTable = await table(req, 'req-logger', cfg.list('log-req-route'), cfg.list('log-req-encoder').map((e) => e.value), sinkOf, mainTable.named);
    all = [...opened.values()];
    files = new Map([...opened.values()].filter((s): s is FileSink => s instanceof FileSink).map((s) => [s.path, s]));
    setLineRouters(main.length ? router(mainTable.table) : undefined, req.length || cfg.has('log-req-route') ? router(reqTable.table) : undefined);
    if (!exitHook) process.on('exit', () => flushLoggers());
    exitHook = true;
  } finally {
    // a file logger the new config dropped
    for (const [file, fd] of inherited) if (!files.has(file)) closeQuietly(fd);
  }
}

/** Writes what the loggers hold, now (at exit, before a re-exec). */
export function flushLoggers(): void {
  for (const s of all) {
    try {
      s.flushSync();
    } catch { /* nowhere to write */ }
  }
}

/** Before a reload's re-exec: the writes in flight come back (at most `ms`: a stuck disk is not waited for). */
export async function holdLoggers(ms = 1000): Promise<void> {
  const writers = all.filter((s): s is FdSink => s instanceof FdSink);
  if (writers.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); });
  await Promise.race([Promise.all(writers.map((w) => w.hold())), stuck]);
  clearTimeout(timer);
}

/** Reopens the file loggers (log-reopen, touch-logreopen, fifo `l`): how many;
 * one that cannot be reopened keeps its old file, and says so. */
export function reopenLoggers(): number {
  let n = 0;
  for (const f of files.values()) {
    try {
      f.reopen();
      n++;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? String(e);
      log('master').error({ code, logger: f.label }, `unable to reopen the log file ${f.path} of the logger ${f.label}: ${code}; it logs on to the old file`);
    }
  }
  return n;
}

/** Before a reload's re-exec: the file loggers' fds stay open for the new image. */
export function keepLoggersAcrossExec(): void {
  flushLoggers();
  if (files.size === 0) return;
  const kept: Record<string, number> = {};
  for (const f of files.values()) {
    native.setCloexec(f.descriptor, false);
    kept[f.path] = f.descriptor;
  }
  process.env[LOGGER_FILES_ENV] = JSON.stringify(kept);
}

function takeInheritedFiles(): Map<string, number> {
  const text = process.env[LOGGER_FILES_ENV];
  delete process.env[LOGGER_FILES_ENV];
  const out = new Map<string, number>();
  if (!text) return out;
  try {
    for (const [file, fd] of Object.entries(JSON.parse(text) as Record<string, number>)) if (Number.isInteger(fd) && fd > 2) out.set(file, fd);
  } catch { /* not ours */ }
  return out;
}

function closeQuietly(fd: number): void {
  try {
    native.closeFd(fd);
  } catch { /* closed already */ }
}

async function table(list: readonly Setting[], option: string, routes: readonly Setting[], encoders: string[], sinkOf: (s: Setting, spec: LoggerSpec, option: string) => Promise<Sink>, alsoNamed = new Map<string, Sink>()): Promise<{ table: Table; named: Map<string, Sink> }> {
  const t: Table = { all: [], routes: [] };
  const named = new Map<string, Sink>();
  for (const s of list) {
    const spec = parseLogger(s.value);
    const sink = await sinkOf(s, spec, option);
    if (spec.name === undefined) t.all.push({ sink, encode: compileEncoders(encoders) });
    else named.set(spec.name, sink);
  }
  for (const r of routes) {
    const { name, regex } = parseRoute(r.value);
    const sink = named.get(name) ?? alsoNamed.get(name); // checked at load: one of them
    if (!sink) continue;
    const out: Out = { sink, encode: compileEncoders(encoders, name) };
    t.routes.push({ re: new RegExp(regex), out });
  }
  return { table: t, named };
}

// two loggers that name the same file (or socket) write through one sink
function destinationKey(spec: LoggerSpec): string {
  if (spec.plugin === 'file') return `file:${path.resolve(fileLoggerArgs(spec.args)!.path)}`;
  if (spec.plugin === 'stdio') return 'fd:1';
  if (spec.plugin === 'fd') return `fd:${Number(spec.args)}`;
  return `${spec.plugin}:${spec.args}`; // a datagram logger: its own frame
}

async function openSink(spec: LoggerSpec, key: string, inherited: Map<string, number>, reopen: boolean, s: Setting, option: string): Promise<Sink> {
  const label = `${spec.plugin}${spec.args ? `:${spec.args}` : ''}`;
  const fail = (e: unknown, what: string, expected: string) => {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    return new LiegeError('LIEGE_ERR_SYSCALL', `unable to ${what}: ${code}`, { origin: s.origin, text: shownValue(option, s.value, s.origin), expected, cause: e });
  };
  if (spec.plugin === 'file') {
    const file = key.slice('file:'.length);
    const { maxsize, backup } = fileLoggerArgs(spec.args)!;
    const rotate = maxsize > 0 ? { maxsize, backup: backup && path.resolve(backup) } : undefined;
    const fd = inherited.get(file);
    if (fd !== undefined) {
      native.setCloexec(fd, true);
      const sink = new FileSink(label, file, fd, rotate);
      if (reopen) {
        try {
          sink.reopen();
        } catch (e) {
          log('master').error({ code: (e as NodeJS.ErrnoException).code, logger: label }, `unable to reopen the log file ${file} of the logger ${label}: ${(e as NodeJS.ErrnoException).code}; it logs on to the old file`);
        }
      }
      return sink;
    }
    try {
      return new FileSink(label, file, openLogFile(file), rotate);
    } catch (e) {
      throw fail(e, `open the log file ${file}`, 'a file the master can create or append to');
    }
  }
  if (spec.plugin === 'stdio' || spec.plugin === 'fd') {
    const fd = spec.plugin === 'stdio' ? 1 : Number(spec.args);
    try {
      fs.fstatSync(fd);
    } catch (e) {
      throw fail(e, `log to fd ${fd}`, 'a file descriptor the master inherited open');
    }
    return new FdSink(label, fd);
  }
  let target: Target;
  let frame: (line: string) => string;
  if (spec.plugin === 'syslog') {
    const { ident, facility } = syslogLoggerArgs(spec.args);
    target = { address: SYSLOG_PATH, port: -1 };
    frame = syslogFrame(ident, facility);
  } else {
    const t = socketLoggerTarget(spec.args);
    frame = socketFrame(t.prefix);
    if (t.path !== undefined) target = { address: t.path, port: -1 };
    else {
      try {
        target = { address: net.isIP(t.host!) ? t.host! : (await dns().lookup(t.host!)).address, port: t.port! };
      } catch (e) {
        throw fail(e, `resolve ${t.host}`, 'a host name that resolves, or an IP address');
      }
    }
  }
  try {
    return new DatagramSink(label, target, frame);
  } catch (e) {
    throw fail(e, `open a datagram socket for ${label}`, 'a unix socket path or HOST:PORT');
  }
}
