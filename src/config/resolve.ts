// Checking the loaded entries against the option registry (DEPARTURES D7):
// unknown options and values of the wrong type are errors naming file:line;
// uWSGI options liege ignores are warned about once. Linear in the number
// of entries (20k repeated options load in milliseconds).
import { configError, formatOrigin, shownValue } from '../errors';
import { log } from '../log';
import { checkOptionValue } from './checks';
import { Config, type HookLine, type Setting } from './config';
import type { Valued } from './expand';
import type { Loaded } from './load';
import { findOption, suggestOption, type OptionDef } from './options';
import { hintsModule as hints } from './uwsgi-hints-door';


function checkValue(def: OptionDef, e: Valued): void {
  const expected = checkOptionValue(def, e.value);
  // `-p %k` (PM2's -i max): magic variables are a config file's, as under uWSGI
  const magic = e.origin.line === 0 && /%[a-zA-Z0-9]/.test(e.value) ? '; magic variables such as %k are expanded in config files only' : '';
  // `processes = 4  # four`: uWSGI's INI has no inline comments either
  const comment = e.origin.line > 0 && /\s[#;]/.test(e.value) ? '; a comment goes on a line of its own (an INI value runs to the end of its line)' : '';
  if (expected) throw configError('LIEGE_ERR_BAD_VALUE', `bad value for \`${def.name}\``, e.origin, shownValue(e.key, e.value, e.origin), expected + magic + comment);
}

function known(e: Valued, placeholders: ReadonlySet<string>): OptionDef | undefined {
  const def = findOption(e.key);
  if (def || placeholders.has(e.key)) return def; // undefined: a custom placeholder
  const s = suggestOption(e.key);
  // `[uwsgi` without its `]`: not an option (uWSGI took it for a section
  // `uwsg` and silently skipped every line after it)
  if (e.key.startsWith('[') && e.value === '') throw configError('LIEGE_ERR_UNKNOWN_OPTION', 'a section header without its closing `]`', e.origin, e.key, `[${e.key.slice(1)}]`);
  throw configError('LIEGE_ERR_UNKNOWN_OPTION', `unknown option \`${e.key}\`${missingEquals(e) ?? (s ? ` (did you mean \`${s}\`?)` : '')}`, e.origin, shownValue(e.key, e.value, e.origin), 'an option of `liege --help`, or a placeholder used as %(' + e.key + ')');
}

// `http-socket 127.0.0.1:8080`: an INI line without `=` is a key with an
// empty value; when its first word is an option, say what was meant
function missingEquals(e: Valued): string | undefined {
  const m = /^(\S+)\s+(.+)$/.exec(e.key);
  if (!m || e.value !== '' || !findOption(m[1]!)) return undefined;
  return ` (the \`=\` is missing: \`${m[1]} = ${m[2]}\`?)`;
}

// uWSGI takes a flag as false for these words only, true for anything else:
// `master = flase` (a typo) turns it on; a word outside both lists is said
// words, not a case-insensitive regexp (config.ts says why)
const FLAG_WORD = new Set(['', 'true', 'on', 'yes', '1', 'false', 'off', 'no', '0']);

const where = (e: Valued) => (e.origin.arg ? `${e.origin.file}: ${e.origin.arg}` : formatOrigin(e.origin));

function hookLine(def: OptionDef, e: Valued): HookLine | undefined {
  return def.hook ? { option: e.key, phase: def.hook.phase, family: def.hook.family, value: e.value, origin: e.origin } : undefined;
}

/** Loaded entries → Config, or the first config error. */
export function resolveConfig(loaded: Loaded): Config {
  const scalars = new Map<string, Setting>();
  const lists = new Map<string, Setting[]>();
  const hooks: HookLine[] = [];
  const settings: Array<{ key: string } & Setting> = [];
  const warned = new Set<string>();
  for (const e of loaded.entries) {
    const def = known(e, loaded.placeholders);
    if (!def || def.special === 'inherit') continue;
    checkValue(def, e);
    if (def.ignored) {
      const hint = hints().ignoredHint(def.name);
      if (!warned.has(def.name)) log('config').warn({ option: def.name, at: where(e) }, `uWSGI option not implemented by liege, ignored${hint ? `: ${hint}` : ''}`);
      warned.add(def.name);
      continue;
    }
    if (def.type === 'flag' && !FLAG_WORD.has(e.value.toLowerCase())) {
      log('config').warn({ option: def.name, at: where(e) }, `\`${def.name} = ${e.value}\` is taken as true (a flag is false only for false, off, no or 0, as uWSGI${/\s[#;]/.test(e.value) ? '; a comment goes on a line of its own' : ''})`);
    }
    const warning = def.warn?.(e.value);
    if (warning) log('config').warn({ option: def.name, at: where(e) }, warning);
    const s: Setting = { value: e.value, origin: e.origin };
    settings.push({ key: def.name, ...s });
    const hook = hookLine(def, e);
    if (hook) hooks.push(hook);
    else if (def.repeatable) {
      const list = lists.get(def.name);
      if (list) list.push(s);
      else lists.set(def.name, [s]);
    } else scalars.set(def.name, s);
  }
  return new Config(scalars, lists, hooks, settings, dormantHooks(loaded));
}

/** Lines of false if-* blocks (and empty for-* loops): never applied, but
 * checked now — known option, and, when no $(…)/@(…)/%(…) is left to
 * expand, a valid value; their hook lines go to the hook syntax check. */
function dormantHooks(loaded: Loaded): HookLine[] {
  const out: HookLine[] = [];
  for (const e of loaded.dormant) {
    const def = known(e, loaded.placeholders);
    if (!def || /[$@%]\(/.test(e.value)) continue;
    checkValue(def, e);
    const hook = hookLine(def, e);
    if (hook) out.push(hook);
  }
  return out;
}
