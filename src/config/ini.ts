// The ordered INI reader (uWSGI core/ini.c): keys keep their file order
// across the whole file, sections may repeat, no inline comments.
import type { Origin } from '../errors';

export interface IniLine {
  key: string;
  value: string;
  origin: Origin;
}

/** The key/value lines of the `sections` in `text`, in file order. */
export function parseIni(text: string, file: string, sections: readonly string[]): IniLine[] {
  const out: IniLine[] = [];
  let current = '';
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/^[ \t\r]+|[ \t\r]+$/g, '');
    if (line === '' || line[0] === '#' || line[0] === ';') continue;
    if (line[0] === '[' && line.endsWith(']')) {
      current = line.slice(1, -1);
      continue;
    }
    if (!sections.includes(current)) continue;
    const eq = line.indexOf('=');
    const key = (eq < 0 ? line : line.slice(0, eq)).replace(/[ \t]+$/, '');
    const value = eq < 0 ? '' : line.slice(eq + 1).replace(/^[ \t]+/, '');
    out.push({ key, value, origin: { file, line: i + 1 } });
  }
  return out;
}

/** Whether `text` has one of the [section] headers. */
export function hasSection(text: string, sections: readonly string[]): boolean {
  return text.split('\n').some((l) => sections.some((s) => l.trim() === `[${s}]`));
}

/** How many key lines come before the first [section] header (never read:
 * a file that forgot its `[uwsgi]` line). */
export function linesBeforeSections(text: string): number {
  let n = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line[0] === '#' || line[0] === ';') continue;
    if (line[0] === '[' && line.endsWith(']')) break;
    n++;
  }
  return n;
}

/** The [section] names of `text`, in file order, each once. */
export function sectionNames(text: string): string[] {
  const out = new Set<string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line[0] === '[' && line.endsWith(']')) out.add(line.slice(1, -1));
  }
  return [...out];
}
