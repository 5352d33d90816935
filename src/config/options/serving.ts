// Options of serving: apps, protocols, sockets, logs, stats, control.
import type { OptionDef } from '../option-def';

const g = (group: string, defs: Array<Omit<OptionDef, 'group'>>): OptionDef[] => defs.map((d) => ({ ...d, group }));

export const SERVING_OPTIONS: OptionDef[] = [
  ...g('serving', [
    { name: 'https-socket', type: 'string', repeatable: true, help: 'bind an HTTPS socket: ADDR,CERT,KEY[,CIPHERS] (TLS in the workers; files read by the master before the drop)' },
    { name: 'app-listen-timeout', type: 'int', min: 1, default: '60', help: 'seconds a self-listening node-app has to call listen() before the worker fails' },
    { name: 'shared-socket', type: 'addr', repeatable: true, help: 'bind a socket before the drop, to be used by other socket options as =N (N = its index)' },
    { name: 'chmod-socket', type: 'string', help: 'mode of unix socket files (octal; bare or true = 666, as uWSGI)' },
    { name: 'chown-socket', type: 'string', help: 'owner of unix socket files: USER[:GROUP]' },
    { name: 'vacuum', type: 'flag', help: 'remove the unix socket files and pidfiles on exit' },
    { name: 'listen', short: 'l', type: 'int', min: 1, max: 65535, default: '511', help: 'listen queue size (backlog) of every socket (Node\'s default 511; uWSGI\'s is 100)' },
    { name: 'reuse-port', type: 'flag', help: 'set SO_REUSEPORT on TCP sockets (several instances on one port)' },
    { name: 'abstract-socket', type: 'flag', help: 'bind unix sockets in the abstract namespace (@name addresses are abstract anyway)' },
    { name: 'lazy-apps', type: 'flag', help: 'accepted: every liege worker loads the app itself after it starts (uWSGI lazy-apps semantics always hold)' },
    { name: 'lazy', type: 'flag', help: 'accepted: same as lazy-apps' },
    { name: 'enable-threads', type: 'flag', help: 'accepted: Node apps may always use worker_threads' },
    { name: 'thunder-lock', type: 'flag', help: 'accepted: the kernel wakes one worker per connection on a shared socket (EPOLLEXCLUSIVE-like accept in libuv)' },
    { name: 'threads', type: 'int', min: 0, help: 'accepted: a Node worker serves many requests at once on its event loop; use processes to scale' },
  ]),
  ...g('logging', [
    { name: 'disable-logging', aliases: ['disable-request-logging'], type: 'flag', help: 'no request log (log-4xx, log-5xx, log-slow still log those)' },
    { name: 'log-4xx', type: 'flag', help: 'log requests answered with 4xx, even with disable-logging' },
    { name: 'log-5xx', type: 'flag', help: 'log requests answered with 5xx, even with disable-logging' },
    { name: 'log-slow', type: 'int', min: 0, help: 'log requests slower than N milliseconds, even with disable-logging' },
    { name: 'logto', type: 'string', help: 'log to this file (opened before the privilege drop)' },
    { name: 'logto2', type: 'string', help: 'log to this file (opened after the privilege drop)' },
    { name: 'log-reopen', type: 'flag', help: 'reopen the log file on reload' },
    { name: 'touch-logreopen', type: 'string', repeatable: true, help: 'reopen the log file when this file\'s mtime changes' },
    { name: 'daemonize', type: 'string', help: 'detach from the terminal and log to this file (before the privilege drop)' },
    { name: 'daemonize2', type: 'string', help: 'detach and log to this file, after the app is loaded (liege: after the drop)' },
    { name: 'log-master', type: 'flag', help: 'workers log through pipes the master reads (a log reopen reaches them too)' },
  ]),
  ...g('control', [
    { name: 'stats', aliases: ['stats-server'], type: 'addr', help: 'serve uWSGI-style JSON stats on this address (HOST:PORT or unix path), one dump per connection' },
    { name: 'stats-http', type: 'flag', help: 'serve the stats as an HTTP response' },
    { name: 'stats-minified', aliases: ['stats-min'], type: 'flag', help: 'minified stats JSON' },
    { name: 'metrics', type: 'addr', help: 'serve Prometheus metrics (prom-client) on HOST:PORT at /metrics' },
    { name: 'master-fifo', type: 'string', repeatable: true, help: 'a FIFO of one-letter commands (r R q Q w W c l L p P s, 0-9 select a fifo)' },
    { name: 'touch-reload', type: 'string', repeatable: true, help: 'graceful reload when this file\'s mtime changes' },
    { name: 'touch-workers-reload', type: 'string', repeatable: true, help: 'reload the workers only when this file\'s mtime changes' },
    { name: 'touch-chain-reload', type: 'string', repeatable: true, help: 'chain reload (one worker at a time) when this file\'s mtime changes' },
    { name: 'touch-exec', type: 'string', repeatable: true, help: 'FILE COMMAND: run the command when the file\'s mtime changes' },
    { name: 'safe-pidfile', type: 'string', help: 'write the master pid atomically (temp file + rename), before the drop' },
    { name: 'safe-pidfile2', type: 'string', help: 'write the master pid atomically, after the drop' },
    { name: 'procname', type: 'string', help: 'process title of every process' },
    { name: 'procname-prefix', type: 'string', help: 'prefix of every process title' },
    { name: 'procname-prefix-spaced', type: 'string', help: 'prefix of every process title, followed by a space' },
    { name: 'procname-master', type: 'string', help: 'process title of the master' },
    { name: 'auto-procname', type: 'flag', help: 'titles like "liege master", "liege worker 1"' },
  ]),
];
