// uWSGI's `logformat` (and `log-format` with a value other than text or
// json): the request log line built from a template, `%(name)` replaced
// per request. The names are uWSGI's (core/logging.c): request fields
// (uri, method, user, addr, host, proto, uagent, referer), the response
// and its timing (status, size, rsize, hsize, cl, micros, msecs, secs, the
// start as time, tmsecs, tmicros, ltime, ctime, ftime — log-date's strftime
// format with logformat-strftime, else ltime — and epoch: now),
// the worker (pid, wid, rss, vsz, rssM, vszM), `var.NAME` (the request's
// CGI variable: uwsgi's own vars, or made from the HTTP request), and
// uWSGI internals that are constant here (switches, core, modifier1,
// modifier2, werr, rerr, ioerr: 0; metric.NAME: 0). Any other name is a
// logvar the app sets (`require('liege').logvar(req, name, value)`). An
// empty value is "-", as uWSGI. The template is parsed once.
import * as fs from 'node:fs';
import type * as http from 'node:http';
import { apacheTimeText, ctimeText, oncePerSecond } from '../log';

/** One served request, as the request log sees it. */
export interface Served {
  worker: number;
  req: http.IncomingMessage;
  res: http.ServerResponse;
  status: number;
  /** The client as the log names it (log-x-forwarded-for). */
  addr: string;
  body: number; // response body bytes
  head: number; // response header bytes
  us: number; // response time
  at: number; // end of the request, epoch ms
}

type Get = (r: Served) => string | number | undefined;
export type LineFormat = (r: Served) => string;

/** The template as a function of one request. */
export function compileLogFormat(template: string, ftime?: string): LineFormat {
  const parts: Array<string | Get> = [];
  let rest = template;
  for (;;) {
    const open = rest.indexOf('%(');
    const close = open < 0 ? -1 : rest.indexOf(')', open);
    if (close < 0) break;
    const name = rest.slice(open + 2, close);
    if (name === '') {
      parts.push(rest.slice(0, close + 1)); // "%()" is text, as uWSGI
    } else {
      parts.push(rest.slice(0, open));
      parts.push(name === 'ftime' && ftime ? strftimeOf(ftime) : getter(name));
    }
    rest = rest.slice(close + 1);
  }
  parts.push(rest);
  return (r) => {
    let line = '';
    for (const p of parts) {
      if (typeof p === 'string') {
        line += p;
        continue;
      }
      const v = p(r);
      line += v === undefined || v === '' ? '-' : v;
    }
    return line;
  };
}

// the app's logvars: a Map on the request (api/index.ts logvar())
const LOGVARS = Symbol.for('liege.logvars');
type WithLogvars = http.IncomingMessage & { [LOGVARS]?: Map<string, string> };

const header = (name: string): Get => (r) => headerText(r.req.headers[name]);
const start = (r: Served) => r.at - r.us / 1000;

const GETTERS: Record<string, Get> = {
  uri: (r) => r.req.url,
  method: (r) => r.req.method,
  user: (r) => cgiVars(r.req).REMOTE_USER,
  addr: (r) => r.addr,
  host: header('host'),
  proto: (r) => `HTTP/${r.req.httpVersion}`,
  uagent: header('user-agent'),
  referer: header('referer'),
  status: (r) => r.status,
  rsize: (r) => r.body,
  hsize: (r) => r.head,
  size: (r) => r.body + r.head,
  cl: (r) => Number(r.req.headers['content-length']) || 0,
  micros: (r) => Math.round(r.us),
  msecs: (r) => Math.floor(r.us / 1000),
  secs: (r) => (r.us / 1e6).toFixed(6),
  time: (r) => Math.floor(start(r) / 1000),
  tmsecs: (r) => Math.floor(start(r)),
  tmicros: (r) => Math.floor(start(r) * 1000),
  ltime: (r) => ltime(start(r)),
  ftime: (r) => ltime(start(r)),
  ctime: (r) => ctime(start(r)),
  epoch: () => Math.floor(Date.now() / 1000),
  pid: () => process.pid,
  wid: (r) => r.worker,
  rss: () => memory().rss,
  vsz: () => memory().vsz,
  rssM: () => Math.floor(memory().rss / (1 << 20)),
  vszM: () => Math.floor(memory().vsz / (1 << 20)),
  vars: (r) => Object.keys(cgiVars(r.req)).length,
  pktsize: (r) => packetSize(uwsgiVars(r.req)),
  headers: (r) => headerCount(r.res),
  switches: () => 0,
  core: () => 0,
  modifier1: () => 0,
  modifier2: () => 0,
  werr: () => 0,
  rerr: () => 0,
  ioerr: () => 0,
};

function getter(name: string): Get {
  const known = GETTERS[name];
  if (known) return known;
  if (name.startsWith('var.')) {
    const key = name.slice(4);
    return (r) => cgiVars(r.req)[key];
  }
  if (name.startsWith('metric.')) return () => 0; // liege keeps no uWSGI metrics
  return (r) => (r.req as WithLogvars)[LOGVARS]?.get(name);
}

// logformat-strftime: the start in log-date's strftime format
function strftimeOf(format: string): Get {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const strftime = require('strftime') as (f: string, d: Date) => string;
  return (r) => strftime(format, new Date(start(r)));
}

function headerText(v: string | string[] | undefined): string | undefined {
  if (Array.isArray(v)) return v.join(', ');
  return v;
}

// the response's header lines (Node keeps the head as one string)
function headerCount(res: http.ServerResponse): number {
  const head = (res as { _header?: string | null })._header;
  if (typeof head !== 'string') return 0;
  return Math.max(0, head.split('\r\n').length - 3); // status line, the blank line, after it
}

// the dates of the start, formatted once a second
const ltime = oncePerSecond(apacheTimeText);
const ctime = oncePerSecond(ctimeText);

// /proc/self/statm read at most once a second (pages: size, resident)
let mem = { at: 0, rss: 0, vsz: 0 };
function memory(): { rss: number; vsz: number } {
  const now = Date.now();
  if (now - mem.at < 1000) return mem;
  try {
    const [size, resident] = fs.readFileSync('/proc/self/statm', 'latin1').split(' ').map(Number);
    mem = { at: now, vsz: size! * 4096, rss: resident! * 4096 };
  } catch {
    mem.at = now; // EMFILE: the last figures
  }
  return mem;
}

type Vars = Record<string, string>;

function uwsgiVars(req: http.IncomingMessage): Vars | undefined {
  return (req.socket as { uwsgi?: Vars } | null)?.uwsgi;
}

// the uwsgi packet's vars block: 2-byte sizes around each key and value (HTTP: 0)
function packetSize(vars: Vars | undefined): number {
  if (!vars) return 0;
  let n = 0;
  for (const [k, v] of Object.entries(vars)) n += 4 + Buffer.byteLength(k, 'latin1') + Buffer.byteLength(v, 'latin1');
  return n;
}

const CGI = Symbol('liege.cgi');
type WithCgi = http.IncomingMessage & { [CGI]?: Vars };

/** The request's CGI variables: the uwsgi packet's, or made from the HTTP request as uWSGI's http-socket does. */
function cgiVars(req: http.IncomingMessage): Vars {
  const own = uwsgiVars(req);
  if (own) return own;
  const r = req as WithCgi;
  if (r[CGI]) return r[CGI];
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const vars: Vars = {
    REQUEST_METHOD: req.method ?? '',
    REQUEST_URI: url,
    PATH_INFO: safeDecode(path),
    QUERY_STRING: q < 0 ? '' : url.slice(q + 1),
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    SCRIPT_NAME: '',
    SERVER_NAME: (req.headers.host ?? '').replace(/:\d+$/, ''),
    SERVER_PORT: String(req.socket?.localPort ?? ''),
    REMOTE_ADDR: req.socket?.remoteAddress ?? '',
    REMOTE_PORT: String(req.socket?.remotePort ?? ''),
  };
  if ((req.socket as { encrypted?: boolean } | null)?.encrypted) vars.HTTPS = 'on';
  for (const [name, value] of Object.entries(req.headers)) {
    const key = name.toUpperCase().replace(/-/g, '_');
    const text = headerText(value) ?? '';
    if (key === 'CONTENT_TYPE' || key === 'CONTENT_LENGTH') vars[key] = text;
    else vars[`HTTP_${key}`] = text;
  }
  r[CGI] = vars;
  return vars;
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
