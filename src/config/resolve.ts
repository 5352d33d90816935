// Checking the loaded entries against the option registry (DEPARTURES D7):
// unknown options and values of the wrong type are errors naming file:line;
// uWSGI options liege ignores are warned about once.
import { configError } from '../errors';
import { log } from '../log';
import { Config, type HookLine, type Setting } from './config';
import type { Valued } from './expand';
import type { Loaded } from './load';
import { findOption, suggestOption, type OptionDef } from './options';

function checkValue(def: OptionDef, e: Valued): void {
  const bad = (expected: string) => configError('LIEGE_ERR_BAD_VALUE', `bad value for \`${def.name}\``, e.origin, `${e.key} = ${e.value}`, expected);
  switch (def.type) {
    case 'int': {
      const n = Number(e.value);
      const lo = def.min ?? -Infinity, hi = def.max ?? Infinity;
      if (!/^-?\d+$/.test(e.value.trim()) || n < lo || n > hi) throw bad(`an integer${def.min !== undefined ? ` from ${lo}` : ''}${def.max !== undefined ? ` to ${hi}` : ''}`);
      break;
    }
    case 'addr': {
      const v = e.value;
      if (v.includes('/') || v.startsWith('@')) break; // unix socket path / abstract
      const m = /^(.*):(\d+)$/.exec(v);
      if (!m || Number(m[2]) > 65535) throw bad('HOST:PORT with a port from 0 to 65535, or a unix socket path');
      break;
    }
    case 'tokens': {
      for (const t of e.value.split(/[\s,]+/).filter(Boolean)) {
        const word = def.name === 'cap' ? t.toLowerCase().replace(/^cap_/, '') : t;
        if (!def.choices!.includes(word)) throw bad(`one or more of: ${def.choices!.join(', ')}`);
      }
      break;
    }
    default:
      break;
  }
}

/** Loaded entries → Config, or the first config error. */
export function resolveConfig(loaded: Loaded): Config {
  const scalars = new Map<string, Setting>();
  const lists = new Map<string, Setting[]>();
  const hooks: HookLine[] = [];
  const settings: Array<{ key: string } & Setting> = [];
  const warned = new Set<string>();
  for (const e of loaded.entries) {
    const def = findOption(e.key);
    if (!def) {
      if (loaded.placeholders.has(e.key)) continue; // a custom placeholder
      const s = suggestOption(e.key);
      throw configError('LIEGE_ERR_UNKNOWN_OPTION', `unknown option \`${e.key}\`${s ? ` (did you mean \`${s}\`?)` : ''}`, e.origin, `${e.key} = ${e.value}`, 'an option of `liege --help`, or a placeholder used as %(' + e.key + ')');
    }
    if (def.special === 'inherit') continue;
    if (def.ignored) {
      if (!warned.has(def.name)) log('config').warn({ option: def.name, at: `${e.origin.file}:${e.origin.line}` }, 'uWSGI option not implemented by liege, ignored');
      warned.add(def.name);
      continue;
    }
    checkValue(def, e);
    const s: Setting = { value: e.value, origin: e.origin };
    settings.push({ key: def.name, ...s });
    if (def.hook) hooks.push({ option: e.key, phase: def.hook.phase, family: def.hook.family, value: e.value, origin: e.origin });
    else if (def.repeatable) lists.set(def.name, [...(lists.get(def.name) ?? []), s]);
    else scalars.set(def.name, s);
  }
  return new Config(scalars, lists, hooks, settings);
}
