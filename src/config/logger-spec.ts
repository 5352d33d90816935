// uWSGI's pluggable loggers as values: `logger = [NAME ]PLUGIN[:ARGS]`
// (also req-logger), `log-route = NAME REGEX` (also log-req-route). Pure
// parsing and the load-time checks; the master's loggers/ runs them.
// uWSGI's reading (core/logging.c setup_choosen_logger): the text before
// the first space is a NAME only when it is all letters and digits (else
// the whole value is the plugin: `file:/a b.log`); the plugin ends at the
// first colon, the rest is its argument. A named logger gets only the lines
// a route sends it.
import type { Config, Setting } from './config';
import { configError, shownValue } from '../errors';

export interface LoggerSpec {
  name?: string;
  plugin: string;
  args: string;
}

/** The plugins liege has (uWSGI's logfile, syslog and logsocket plugins). */
export const LOGGER_PLUGINS = ['file', 'stdio', 'fd', 'syslog', 'socket'];

/** syslog facilities by name (uWSGI's table, Linux values). */
export const SYSLOG_FACILITIES: Record<string, number> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, security: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10, ftp: 11,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
};

/** `[NAME ]PLUGIN[:ARGS]` as uWSGI reads it. */
export function parseLogger(value: string): LoggerSpec {
  let rest = value;
  let name: string | undefined;
  const space = value.indexOf(' ');
  if (space > 0 && /^[A-Za-z0-9]+$/.test(value.slice(0, space))) {
    name = value.slice(0, space);
    rest = value.slice(space + 1);
  }
  const colon = rest.indexOf(':');
  return colon < 0 ? { name, plugin: rest, args: '' } : { name, plugin: rest.slice(0, colon), args: rest.slice(colon + 1) };
}

/** `file:` takes PATH, or uWSGI's key list `logfile=PATH[,maxsize=BYTES][,backupname=PATH]`
 * (any `=` makes it one, as uWSGI); undefined: a key list liege cannot read. */
export function fileLoggerArgs(args: string): { path: string; maxsize: number; backup?: string } | undefined {
  if (!args.includes('=')) return { path: args, maxsize: 0 };
  const kv = new Map<string, string>();
  for (const item of args.split(',')) {
    const eq = item.indexOf('=');
    if (eq < 0 || !['logfile', 'maxsize', 'backupname'].includes(item.slice(0, eq))) return undefined;
    kv.set(item.slice(0, eq), item.slice(eq + 1));
  }
  const maxsize = kv.get('maxsize') ?? '0';
  if (!/^\d+$/.test(maxsize)) return undefined;
  return { path: kv.get('logfile') ?? '', maxsize: Number(maxsize), backup: kv.get('backupname') || undefined };
}

/** socket's ADDR[,PREFIX]: a unix path, or HOST:PORT ([v6]:PORT) for UDP. */
export function socketLoggerTarget(args: string): { host?: string; port?: number; path?: string; prefix: string } {
  const comma = args.indexOf(',');
  const addr = comma < 0 ? args : args.slice(0, comma);
  const prefix = comma < 0 ? '' : args.slice(comma + 1);
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(addr);
  if (m && !addr.includes('/')) return { host: m[1] ?? m[2]!, port: Number(m[3]), prefix };
  return { path: addr, prefix };
}

/** syslog's IDENT[,FACILITY] (uWSGI's default ident "uwsgi", facility daemon). */
export function syslogLoggerArgs(args: string): { ident: string; facility: number } {
  if (args === '') return { ident: 'uwsgi', facility: SYSLOG_FACILITIES.daemon! };
  const comma = args.indexOf(',');
  if (comma < 0) return { ident: args, facility: SYSLOG_FACILITIES.daemon! };
  return { ident: args.slice(0, comma), facility: SYSLOG_FACILITIES[args.slice(comma + 1)] ?? -1 };
}

const WANT = `[NAME ]PLUGIN[:ARGS] with PLUGIN one of ${LOGGER_PLUGINS.join(', ')} (file:PATH, stdio, fd:N, syslog[:IDENT[,FACILITY]], socket:ADDR[,PREFIX])`;

/** A `logger` / `req-logger` value: a known plugin with the arguments it needs. */
export function checkLogger(value: string): string | undefined {
  const { plugin, args } = parseLogger(value);
  if (!LOGGER_PLUGINS.includes(plugin)) return `${WANT}: no logger plugin \`${plugin}\``;
  if (plugin === 'file') {
    const f = fileLoggerArgs(args);
    if (!f || f.path === '') return 'file:PATH, or file:logfile=PATH[,maxsize=BYTES][,backupname=PATH] (a path to append to)';
  }
  if (plugin === 'fd' && !/^\d+$/.test(args)) return 'fd:N (an open file descriptor number)';
  if (plugin === 'syslog' && syslogLoggerArgs(args).facility < 0) return `syslog[:IDENT[,FACILITY]] with FACILITY one of ${Object.keys(SYSLOG_FACILITIES).join(', ')}`;
  if (plugin === 'socket') {
    const t = socketLoggerTarget(args);
    if (t.port !== undefined && (t.port === 0 || t.port > 65535 || t.host === '')) return 'socket:HOST:PORT (UDP, a port from 1 to 65535) or socket:/PATH (a unix datagram socket), then [,PREFIX]';
    if (t.path !== undefined && (t.path === '' || t.path.includes(':'))) return 'socket:HOST:PORT (UDP) or socket:/PATH (a unix datagram socket), then [,PREFIX]';
  }
  return undefined;
}

/** `log-route = NAME REGEX`: a logger's name, one space, a regular expression. */
export function parseRoute(value: string): { name: string; regex: string } {
  const space = value.indexOf(' ');
  return space < 0 ? { name: value, regex: '' } : { name: value.slice(0, space), regex: value.slice(space + 1) };
}

export function checkRoute(value: string): string | undefined {
  const { name, regex } = parseRoute(value);
  if (name === '' || regex === '') return 'NAME REGEX (a named logger, one space, a regular expression)';
  try {
    new RegExp(regex);
  } catch {
    return 'NAME REGEX with a valid regular expression (JavaScript syntax)';
  }
  return undefined;
}

/** The `logger` values, with log-syslog and log-socket (uWSGI's shorthands for syslog: and socket:). */
export function loggerSettings(cfg: Config): Setting[] {
  const syslog = cfg.list('log-syslog').map((s) => ({ ...s, value: s.value === '' || s.value.toLowerCase() === 'true' ? 'syslog' : `syslog:${s.value}` }));
  const socket = cfg.list('log-socket').map((s) => ({ ...s, value: `socket:${s.value}` }));
  return [...cfg.list('logger'), ...syslog, ...socket];
}

/** Whether the config asks for log-master (these options imply it, as under uWSGI). */
export function wantsLogMaster(cfg: Config): boolean {
  return cfg.bool('log-master') || (['log-drain', 'log-filter', 'log-encoder', 'logger', 'log-syslog', 'log-socket', 'req-logger', 'log-route', 'log-req-route', 'log-req-encoder'] as const).some((o) => cfg.has(o)) || cfg.bool('threaded-logger');
}

/**
 * The names the routes and encoders use are loggers' names (uWSGI ignores
 * a route to no logger: liege refuses it at load). A log-req-route may name
 * a named req-logger or, as under uWSGI, a named logger.
 */
export function checkLoggerNames(cfg: Config): void {
  const named = (list: readonly Setting[], option: string) => {
    const names = new Set<string>();
    for (const s of list) {
      const { name } = parseLogger(s.value);
      if (name === undefined) continue;
      if (names.has(name)) throw configError('LIEGE_ERR_BAD_VALUE', `bad value for \`${option}\`: the name ${name} is taken by another ${option}`, s.origin, shownValue(option, s.value, s.origin), 'a name of its own');
      names.add(name);
    }
    return names;
  };
  const loggers = named(loggerSettings(cfg), 'logger');
  const reqLoggers = named(cfg.list('req-logger'), 'req-logger');
  const known = (option: 'log-route' | 'log-req-route', names: Set<string>, which: string) => {
    for (const s of cfg.list(option)) {
      const { name } = parseRoute(s.value);
      if (names.has(name)) continue;
      const have = names.size ? `named here: ${[...names].join(', ')}` : 'none is named here';
      throw configError('LIEGE_ERR_BAD_VALUE', `bad value for \`${option}\`: no ${which} is named ${name}`, s.origin, shownValue(option, s.value, s.origin), `the NAME of a \`${which.split(' ')[0]} = NAME PLUGIN:ARGS\` (${have})`);
    }
  };
  known('log-route', loggers, 'logger');
  known('log-req-route', new Set([...reqLoggers, ...loggers]), 'req-logger or logger');
  for (const option of ['log-encoder', 'log-req-encoder'] as const) {
    for (const s of cfg.list(option)) {
      const target = s.value.split(' ', 1)[0]!.split(':', 2)[1];
      if (target === undefined || loggers.has(target) || reqLoggers.has(target)) continue;
      throw configError('LIEGE_ERR_BAD_VALUE', `bad value for \`${option}\`: no logger is named ${target}`, s.origin, shownValue(option, s.value, s.origin), 'ENCODER:NAME with NAME a named logger or req-logger, or ENCODER alone (every line)');
    }
  }
}
