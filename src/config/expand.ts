// The three expansion passes uWSGI runs over every option value after all
// sources were read (core/uwsgi.c uwsgi_init): $(ENV), then @(file), then
// %(placeholder) with its little integer math. Unknown $(X) and %(x) stay
// verbatim, so `$(cmd)` still reaches the shell.
import type { Origin } from '../errors';

export interface Valued {
  key: string;
  value: string;
  origin: Origin;
  raw?: boolean; // from `inherit`: not expanded
}

export function expandEnv(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(/\$\(([^)]*)\)/g, (m, name: string) => (name !== '' && env[name] !== undefined ? env[name]! : m));
}

/** @(file) → its content without the last newline; `read` is the loader's
 * bounded reader (it throws a LiegeError naming the value when it fails). */
export function expandAt(value: string, read: (spec: string) => string): string {
  return value.replace(/@\(([^)]*)\)/g, (_m, spec: string) => read(spec).replace(/[\r\n]$/, ''));
}

/** %(name) and %(a + b ...): `lookup` gives the first value of a key. */
export function expandPlaceholders(value: string, lookup: (k: string) => string | undefined): string {
  return value.replace(/%\(([^)]*)\)/g, (m, body: string) => {
    const v = placeholder(body, lookup);
    return v === undefined ? m : v;
  });
}

const isNumber = (s: string) => /^-?\d+$/.test(s);
const toInt = (s: string) => {
  const n = parseInt(s, 10); // strtoll: leading digits, else 0
  return Number.isNaN(n) ? 0 : n;
};

// uWSGI config.c uwsgi_manage_placeholder: no space = a plain lookup; else
// tokens left to right: numbers, + - * / (integers, /0 = 0), ++ and --,
// names; juxtaposition concatenates.
function placeholder(body: string, lookup: (k: string) => string | undefined): string | undefined {
  if (!body.includes(' ')) return lookup(body);
  let cur: string | undefined;
  let op: '' | '+' | '-' | '*' | '/' = '';
  for (const tok of body.split(' ').filter(Boolean)) {
    if (tok === '+' || tok === '-' || tok === '*' || tok === '/') { op = tok; continue; }
    if (tok === '++' || tok === '--') {
      if (cur !== undefined) cur = String(toInt(cur) + (tok === '++' ? 1 : -1));
      op = '';
      continue;
    }
    const val = isNumber(tok) ? tok : lookup(tok) ?? '';
    const a = toInt(cur ?? ''), b = toInt(val);
    switch (op) {
      case '': cur = (cur ?? '') + val; break;
      case '+': cur = String(a + b); break;
      case '-': cur = String(a - b); break;
      case '*': cur = String(a * b); break;
      case '/': cur = String(b === 0 ? 0 : Math.trunc(a / b)); break;
    }
    op = '';
  }
  return cur;
}
