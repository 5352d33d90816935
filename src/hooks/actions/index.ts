// The action registry: name → definition, every family in one table.
import { callActions } from './call';
import { execActions } from './exec';
import { fileActions } from './files';
import { jsActions } from './js';
import { mountActions } from './mount';
import { processActions } from './process';
import type { ActionDef } from './types';
import { waitActions } from './wait';

export const ACTIONS: readonly ActionDef[] = [...execActions, ...callActions, ...mountActions, ...fileActions, ...waitActions, ...processActions, ...jsActions];

const byName = new Map<string, ActionDef>();
for (const a of ACTIONS) for (const n of [a.name, ...(a.aliases ?? [])]) byName.set(n, a);

// what spec.ts and `liege --help` take from the other action files: this
// file is the actions part's one entry (scripts/parts.js)
export { shortcutCall, SYMBOL_EQUIVALENTS } from './call';
export { UNSUPPORTED_ACTIONS } from './process';

export function findAction(name: string): ActionDef | undefined {
  return byName.get(name);
}

/** Every accepted action name, aliases included (35 of uWSGI's 37). */
export function actionNames(): string[] {
  return [...byName.keys()];
}
