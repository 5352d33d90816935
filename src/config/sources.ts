// Reading a config source or an @(...) value by scheme: a plain path,
// `exec://cmd` (its stdout), `fd://N`, `-` (stdin), `data://TEXT`.
import * as fs from 'node:fs';

/** The text behind `spec`; throws the fs/child error as is. */
export function readSource(spec: string): string {
  if (spec.startsWith('exec://')) {
    const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
    return execFileSync('/bin/sh', ['-c', spec.slice(7)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  }
  if (spec.startsWith('fd://')) return fs.readFileSync(Number(spec.slice(5)), 'utf8');
  if (spec === '-') return fs.readFileSync(0, 'utf8');
  if (spec.startsWith('data://')) return spec.slice(7);
  if (spec.startsWith('file://')) return fs.readFileSync(spec.slice(7), 'utf8');
  return fs.readFileSync(spec, 'utf8');
}

/** Whether `spec` names a file on disk (magic variables like %d apply). */
export function isPlainPath(spec: string): boolean {
  return !/^[a-z]+:\/\//.test(spec) && spec !== '-';
}
