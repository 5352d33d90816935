// The describe pattern (cPanel's manage_hooks): a hook says where it runs.
// A script is run with `--describe` and prints a JSON array of descriptor
// objects; a module exports `describe()` returning (or resolving to) that
// array. No describe → undefined (the caller falls back to the flags).
import { spawnSync } from 'node:child_process';
import { checkDescriptor, type Descriptor, type Kind } from './entry';

/** Raised when a hook describes itself wrongly (not when it has no describe). */
export class DescribeError extends Error {}

function check(list: unknown, kind: Kind, who: string): Descriptor[] {
  if (!Array.isArray(list) || list.length === 0) throw new DescribeError(`${who} must give a non-empty JSON array of descriptor objects`);
  return list.map((d, i) => {
    try {
      return checkDescriptor(d, kind);
    } catch (e) {
      if (typeof e !== 'string') throw e;
      throw new DescribeError(`${who}, descriptor ${i + 1}: ${e}`);
    }
  });
}

/** `SCRIPT --describe`: exit 0 and a JSON array on stdout, or no describe. */
export function describeScript(file: string): Descriptor[] | undefined {
  const r = spawnSync(file, ['--describe'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
  if (r.error) throw new DescribeError(`unable to run ${file} --describe: ${r.error.message}`);
  if (r.status !== 0) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.stdout);
  } catch {
    return undefined; // a script that does not know --describe and printed something else
  }
  return check(parsed, 'script', `${file} --describe`);
}

/** A module's `describe()` export (sync or async), or no describe. */
export async function describeModule(file: string): Promise<Descriptor[] | undefined> {
  let mod: Record<string, unknown>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(file) as Record<string, unknown>;
  } catch (e) {
    throw new DescribeError(`unable to load ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  const describe = mod.describe ?? (mod.default as Record<string, unknown> | undefined)?.describe;
  if (typeof describe !== 'function') return undefined;
  return check(await (describe as () => unknown)(), 'module', `${file} describe()`);
}
