// log-encoder: uWSGI's chain of encoders, applied to every line the master
// writes with log-master (its own and the workers'; log-req-encoder: the
// request lines with req-logger), in order, each taking
// what the previous one gave. A line enters with its newline and what the
// chain gives is written as it is (`format` and `json` drop the newline
// unless the template says ${msgnl}, or an `nl` follows: as uWSGI).
//   prefix TEXT, suffix TEXT, nl,
//   format TEMPLATE, json TEMPLATE (the line JSON-escaped), with
//   ${msg} ${msgnl} ${unix} ${millis} ${micros} ${strftime:FORMAT}
// (gzip and compress, binary logs, are refused at load: config/checks.ts).
// (strftime loaded only for a ${strftime:…}: a start does not pay for it)
// eslint-disable-next-line @typescript-eslint/no-require-imports
const strftime = (format: string) => (require('strftime') as (f: string, d: Date) => string)(format, new Date());

export type Encode = (line: string) => string;

type Piece = { text: string } | { name: string };

// uWSGI's escape_json: tab, newline, carriage return, quote, backslash
const ESCAPES: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r', '"': '\\"', '\\': '\\\\' };
const escapeJson = (s: string) => s.replace(/[\t\n\r"\\]/g, (c) => ESCAPES[c]!);

/** The template's text and ${var} pieces. */
function pieces(template: string): Piece[] {
  const out: Piece[] = [];
  const re = /\$\{([^}]*)\}/g;
  let last = 0;
  for (let m = re.exec(template); m; m = re.exec(template)) {
    if (m.index > last) out.push({ text: template.slice(last, m.index) });
    out.push({ name: m[1]! });
    last = m.index + m[0].length;
  }
  if (last < template.length) out.push({ text: template.slice(last) });
  return out;
}

function value(name: string, line: string, escape: (s: string) => string): string {
  if (name === 'msg') return escape(line.endsWith('\n') ? line.slice(0, -1) : line);
  if (name === 'msgnl') return escape(line);
  if (name === 'unix') return String(Math.floor(Date.now() / 1000));
  if (name === 'millis') return String(Date.now());
  if (name === 'micros') return String(Math.floor(Date.now() * 1000));
  if (name.startsWith('strftime:')) return strftime(name.slice(9));
  return ''; // an unknown variable: nothing, as uWSGI
}

function templated(template: string, escape: (s: string) => string): Encode {
  const parts = pieces(template);
  return (line) => parts.map((p) => ('text' in p ? p.text : value(p.name, line, escape))).join('');
}

function encoder(spec: string): Encode {
  const space = spec.indexOf(' ');
  const name = space < 0 ? spec : spec.slice(0, space);
  const args = space < 0 ? '' : spec.slice(space + 1);
  if (name === 'prefix') return (line) => args + line;
  if (name === 'suffix') return (line) => line + args;
  if (name === 'nl') return (line) => `${line}\n`;
  if (name === 'json') return templated(args, escapeJson);
  return templated(args, (s) => s); // format
}

/**
 * The chain of `log-encoder` values for the lines of `logger` (a named
 * logger's name; undefined: stderr or an unnamed logger): the encoders for
 * every line, and those written `NAME:LOGGER` for that one, in order (as
 * uWSGI); undefined when there is none.
 */
export function compileEncoders(specs: readonly string[], logger?: string): Encode | undefined {
  const chain: Encode[] = [];
  for (const spec of specs) {
    const space = spec.indexOf(' ');
    const head = space < 0 ? spec : spec.slice(0, space);
    const colon = head.indexOf(':');
    if (colon >= 0 && head.slice(colon + 1) !== logger) continue;
    chain.push(encoder(colon < 0 ? spec : head.slice(0, colon) + spec.slice(head.length)));
  }
  if (chain.length === 0) return undefined;
  return (line) => chain.reduce((l, e) => e(l), line);
}
