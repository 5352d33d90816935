// One pino logger for the process, with a `component` child per folder.
// pino is loaded on first use: a no-hook start should cost no more than a
// bare `node` start (bench/README.md), and pino's load is ~1/4 of that.
import type { Logger } from 'pino';

let root: Logger | undefined;
let format: 'text' | 'json' = 'text';
const children = new Map<string, Logger>();

/** Set once from the config (`log-format`); before that, text. */
export function setLogFormat(f: 'text' | 'json'): void {
  if (f !== format) {
    root = undefined;
    children.clear();
  }
  format = f;
}

function getRoot(): Logger {
  if (!root) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pino = require('pino') as typeof import('pino');
    const opts = { base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
    root = format === 'json' ? pino(opts, pino.destination({ fd: 2, sync: true })) : pino({ ...opts, base: undefined }, textStream());
  }
  return root;
}

// Text lines "liege[pid] component: msg key=value ..." on stderr, written
// synchronously so they interleave correctly with hook output.
function textStream(): { write(s: string): void } {
  const fs = require('node:fs') as typeof import('node:fs');
  const skip = new Set(['level', 'time', 'msg', 'component', 'hostname']);
  return {
    write(s: string) {
      const o = JSON.parse(s) as Record<string, unknown>;
      const lvl = Number(o.level) >= 50 ? 'ERROR ' : Number(o.level) >= 40 ? 'WARN ' : '';
      const kv = Object.entries(o)
        .filter(([k, v]) => !skip.has(k) && !(k === 'pid' && v === process.pid))
        .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`)
        .join(' ');
      fs.writeSync(2, `liege[${process.pid}] ${o.component ?? 'main'}: ${lvl}${o.msg ?? ''}${kv ? ' ' + kv : ''}\n`);
    },
  };
}

/** The logger of one component (config, hooks, master, os ...). */
export function log(component: string): Logger {
  let l = children.get(component);
  if (!l) {
    l = getRoot().child({ component });
    children.set(component, l);
  }
  return l;
}
