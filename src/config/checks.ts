// Per-value validators of the option registry: each returns what was
// expected when the value is bad, undefined when it is fine. Pure (no file
// system): names are resolved later, where they will be used (after chroot).
import type { OptionDef } from './option-def';

type Check = (value: string) => string | undefined;

// words, not a case-insensitive regexp (config.ts says why)
const TRUE_FALSE = new Set(['true', 'false', 'on', 'off', 'yes', 'no', '1', '0']);
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$/;
// POSIX portable user/group names (and the trailing $ of machine accounts), or a number
const IDENTITY = /^([A-Za-z_][A-Za-z0-9_.-]*\$?|\d+)$/;

export const nonEmpty: Check = (v) => (v.trim() === '' ? 'a value' : undefined);

/** `pivot-root = NEW_ROOT OLD_ROOT` (uWSGI splits at the one space). */
export const pivotRoot: Check = (v) => {
  const parts = v.split(' ');
  return parts.length === 2 && parts[0] !== '' && parts[1] !== '' ? undefined : 'NEW_ROOT OLD_ROOT (two paths separated by one space)';
};

/** `namespace = ROOTFS[:HOSTNAME]`. */
export const namespace: Check = (v) => {
  const colon = v.indexOf(':');
  const rootfs = colon < 0 ? v : v.slice(0, colon);
  const host = colon < 0 ? undefined : v.slice(colon + 1);
  if (rootfs === '') return 'ROOTFS[:HOSTNAME] with a root directory';
  if (host !== undefined && !HOSTNAME.test(host)) return 'ROOTFS[:HOSTNAME] with a hostname of letters, digits, dots and dashes (up to 64)';
  return undefined;
};

/** `namespace-keep-mount = PATH` or `SRC:DST`. */
export const keepMount: Check = (v) => {
  const colon = v.indexOf(':');
  if (v === '' || colon === 0 || colon === v.length - 1) return 'PATH or SRC:DST';
  return undefined;
};

/** A regular expression (uWSGI: PCRE; here JavaScript's dialect). */
export const regexp: Check = (v) => {
  try {
    new RegExp(v);
    return undefined;
  } catch {
    return 'a valid regular expression';
  }
};

/** The log encoders liege has (uWSGI's, but gzip and compress). */
export const LOG_ENCODERS = ['prefix', 'suffix', 'nl', 'format', 'json'];

/** `log-encoder = NAME[:LOGGER] [ARGS]`: a known encoder (LOGGER, a named
 * logger, is checked with the loggers: config/logger-spec.ts). */
export const logEncoder: Check = (v) => {
  const name = v.split(' ', 1)[0]!.split(':', 1)[0]!;
  const known = `one of ${LOG_ENCODERS.join(', ')} (then its argument)`;
  if (name === 'gzip' || name === 'compress') return `${known}: ${name} writes binary logs, not supported`;
  if (!LOG_ENCODERS.includes(name)) return known;
  return undefined;
};

/** uid/gid/add-gid: a user or group name, or a number. */
export const identity: Check = (v) => (IDENTITY.test(v) ? undefined : 'a user/group name or a number');

/** The value of one option checked against its declaration. */
export function checkOptionValue(def: OptionDef, value: string): string | undefined {
  // a NUL (from @(file) or exec://) would cut the string the kernel sees
  if (value.includes('\0')) return 'a value without NUL bytes';
  const type = typeCheck(def, value);
  if (type) return type;
  return def.check?.(value);
}

function typeCheck(def: OptionDef, value: string): string | undefined {
  const v = value.trim();
  // optional_argument given alone (`--ksm`, `ksm =`, `ksm = true`)
  if (def.optional && (v === '' || v.toLowerCase() === 'true')) return undefined;
  switch (def.type) {
    case 'bool':
      return TRUE_FALSE.has(v.toLowerCase()) ? undefined : 'true or false';
    case 'int':
      return intCheck(def, v);
    case 'mode':
      return /^[0-7]{1,4}$/.test(v) && parseInt(v, 8) <= 0o777 ? undefined : 'an octal mode from 000 to 777 (like 022)';
    case 'addr':
      if (def.sharedRef && /^=\d+$/.test(v)) return undefined; // a shared-socket, by index
      return addrCheck(value);
    case 'tokens': {
      for (const t of value.split(/[\s,]+/).filter(Boolean)) {
        const word = def.name === 'cap' ? t.toLowerCase().replace(/^cap_/, '') : t;
        if (!def.choices!.includes(word)) return `one or more of: ${def.choices!.join(', ')}`;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

function intCheck(def: OptionDef, v: string): string | undefined {
  const lo = def.min ?? Number.MIN_SAFE_INTEGER;
  const hi = def.max ?? Number.MAX_SAFE_INTEGER;
  const n = Number(v);
  if (/^-?\d+$/.test(v) && n >= lo && n <= hi) return undefined;
  const from = def.min !== undefined ? ` from ${lo}` : '';
  const to = def.max !== undefined ? ` to ${hi}` : '';
  return `an integer${from}${to}`;
}

function addrCheck(v: string): string | undefined {
  if (v.includes('/') || v.startsWith('@')) return undefined; // unix socket path / abstract
  // uWSGI takes any name without a colon for a unix socket in the start
  // directory, as liege does (`app.sock`), but for a bare number: a file
  // named 8080 is never what was meant
  if (/^\d+$/.test(v)) return `:${v} (a port needs its colon: every interface; or 127.0.0.1:${v}), or a unix socket path`;
  if (!v.includes(':')) return undefined;
  const m = /^(.*):(\d+)$/.exec(v);
  if (!m || Number(m[2]) > 65535) return 'HOST:PORT with a port from 0 to 65535, or a unix socket path';
  return undefined;
}

/** A request log template (`logformat`): every `%(` has its `)`. */
export const logTemplate: Check = (v) => {
  const open = v.lastIndexOf('%(');
  if (open >= 0 && v.indexOf(')', open) < 0) return 'a log format whose every %(name) is closed with ")"';
  return undefined;
};
