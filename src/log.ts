// Logging: one logger per component. With `log-format = json` every line is
// a pino JSON object on stderr; the default text format writes the same
// fields as one readable line ("liege[pid] component: msg key=value ...")
// without loading pino, whose load alone costs a quarter of a bare `node`
// start on a small VM (bench/README.md). Lines are written synchronously so
// they interleave correctly with the output of hooks.
import * as fs from 'node:fs';
import type { Logger as Pino } from 'pino';

export interface Logger {
  info(fields: object, msg: string): void;
  info(msg: string): void;
  warn(fields: object, msg: string): void;
  warn(msg: string): void;
  error(fields: object, msg: string): void;
  error(msg: string): void;
}

type Level = 'info' | 'warn' | 'error';

let format: 'text' | 'json' = 'text';
let pinoRoot: Pino | undefined;
const loggers = new Map<string, Logger>();

/** Set once from the config (`log-format`); before that, text. */
export function setLogFormat(f: 'text' | 'json'): void {
  format = f;
}

function pinoChild(component: string): Pino {
  if (!pinoRoot) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pino = require('pino') as typeof import('pino');
    pinoRoot = pino({ base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 2, sync: true }));
  }
  return pinoRoot.child({ component });
}

const LABEL: Record<Level, string> = { info: '', warn: 'WARN ', error: 'ERROR ' };

function textLine(component: string, level: Level, fields: object, msg: string): string {
  const kv = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' && v !== '' && !/[\s"=]/.test(v) ? v : JSON.stringify(v)}`)
    .join(' ');
  return `liege[${process.pid}] ${component}: ${LABEL[level]}${msg}${kv ? ' ' + kv : ''}\n`;
}

/** A closed or broken stderr (EPIPE, EIO) never takes the process down:
 * the line is dropped. */
function writeStderr(line: string): void {
  try {
    fs.writeSync(2, line);
  } catch { /* nowhere to log */ }
}

/** The logger of one component (config, hooks, master, emperor ...). */
export function log(component: string): Logger {
  let l = loggers.get(component);
  if (!l) {
    const emit = (level: Level) => (a: object | string, b?: string) => {
      const [fields, msg] = typeof a === 'string' ? [{}, a] : [a, b ?? ''];
      if (format === 'json') pinoChild(component)[level](fields, msg);
      else writeStderr(textLine(component, level, fields, msg));
    };
    l = { info: emit('info'), warn: emit('warn'), error: emit('error') } as Logger;
    loggers.set(component, l);
  }
  return l;
}
