// `liege hooks add|delete script|module PATH [descriptors]` and the registry
// half of `liege hooks list`: the only writers of the hook registry.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LiegeError } from '../errors';
import { log } from '../log';
import { DescribeError, describeModule, describeScript } from '../hooks/registry/describe';
import { addHooks, deleteHooks, grouped } from '../hooks/registry/edit';
import { checkDescriptor, type Descriptor, type Kind, type RegistryEntry } from '../hooks/registry/entry';
import { hooksDbPath, loadRegistry } from '../hooks/registry/store';
import { flagStr, parseFlags, type ParsedArgs } from './hooks-args';

export const REGISTRY_USAGE = 'liege hooks add|delete script|module PATH [--category Phase|Vassal|Request] [--event EVENT] [--stage pre|post] [--weight N] [--check REF] [--rollback REF] [--escalateprivs] [--action ARGS] [--manual] [--hooks-db FILE] [--output json]';
const DESCRIPTOR_FLAGS = ['category', 'event', 'stage', 'weight', 'check', 'rollback', 'escalateprivs', 'action'];
const FLAGS = [...DESCRIPTOR_FLAGS, 'manual', 'hooks-db', 'output', 'id'];
const BOOLS = ['manual', 'escalateprivs'];

const usageError = (message: string) => new LiegeError('LIEGE_ERR_USAGE', message, { expected: REGISTRY_USAGE, exitCode: 100 });

/** The hook reference as typed → kind and absolute path (checked). */
function reference(p: ParsedArgs): { kind: Kind; ref: string } {
  const [kind, file] = p.positional;
  if (kind !== 'script' && kind !== 'module') throw usageError(`\`${kind ?? ''}\` is not a hook kind: script or module`);
  if (!file) throw usageError(`missing the ${kind}'s path`);
  if (p.positional.length > 2) throw usageError(`unexpected argument \`${p.positional[2]}\``);
  return { kind, ref: path.resolve(file) };
}

function fromFlags(p: ParsedArgs, kind: Kind): Descriptor {
  // the usual case (a plain script, no describe): say the flag, not "bad descriptor flags: `event`"
  if (!p.flags.has('event')) throw new LiegeError('LIEGE_ERR_REGISTRY', `missing --event: a ${kind} registered with flags (it has no describe, or --manual) needs the event it runs at`, { text: process.argv.slice(2).join(' '), expected: '--event PHASE (asap, as-root, as-user, pre-app, post-app, post-fork, accepting …) or a request event (pre-route …)' });
  const o: Record<string, unknown> = {};
  for (const k of DESCRIPTOR_FLAGS) if (p.flags.has(k)) o[k] = flagStr(p, k);
  if (o.escalateprivs !== undefined) o.escalateprivs = !/^(false|no|off|0)$/i.test(String(o.escalateprivs));
  try {
    return checkDescriptor(o, kind);
  } catch (e) {
    if (typeof e !== 'string') throw e;
    throw new LiegeError('LIEGE_ERR_REGISTRY', `bad descriptor flags: ${e}`, { text: process.argv.slice(2).join(' '), expected: REGISTRY_USAGE });
  }
}

/** Descriptors from the hook itself, else (with a warning) from the flags. */
async function descriptors(p: ParsedArgs, kind: Kind, ref: string): Promise<Descriptor[]> {
  if (p.flags.has('manual')) return [fromFlags(p, kind)];
  let described: Descriptor[] | undefined;
  try {
    described = kind === 'script' ? describeScript(ref) : await describeModule(ref);
  } catch (e) {
    if (!(e instanceof DescribeError)) throw e;
    throw new LiegeError('LIEGE_ERR_REGISTRY', e.message, { expected: 'a JSON array of {category, event, stage, weight, check, rollback, escalateprivs, action} (or --manual)' });
  }
  const given = DESCRIPTOR_FLAGS.filter((k) => p.flags.has(k));
  if (described) {
    // describe and flags are never mixed: the hook's own word wins
    if (given.length) log('hooks').warn({ hook: ref, ignored: given.map((k) => `--${k}`).join(' ') }, 'the hook describes itself: descriptor flags ignored (use --manual to register with the flags only)');
    return described;
  }
  log('hooks').warn({ hook: ref }, `the ${kind} has no describe (${kind === 'script' ? '--describe' : 'describe() export'}): registering with the flags`);
  return [fromFlags(p, kind)];
}

function checkFile(kind: Kind, ref: string): void {
  try {
    fs.accessSync(ref, kind === 'script' ? fs.constants.X_OK : fs.constants.R_OK);
  } catch (e) {
    throw new LiegeError('LIEGE_ERR_REGISTRY', `unable to register ${ref}: ${kind === 'script' ? 'not an executable file' : 'not a readable file'} (${(e as NodeJS.ErrnoException).code})`, { text: ref });
  }
}

const line = (e: RegistryEntry) => `${e.id}  ${e.kind} ${e.ref}${e.action ? ` ${e.action}` : ''}  ${e.category} ${e.event} ${e.stage} weight=${e.weight}${e.check ? ` check=${e.check}` : ''}${e.rollback ? ` rollback=${e.rollback}` : ''}${e.escalateprivs ? ' escalateprivs' : ''}`;

export async function addCommand(argv: string[]): Promise<number> {
  const p = parseFlags(argv, FLAGS, REGISTRY_USAGE, BOOLS);
  const { kind, ref } = reference(p);
  checkFile(kind, ref);
  const descs = await descriptors(p, kind, ref);
  const added = addHooks(hooksDbPath(flagStr(p, 'hooks-db')), kind, ref, descs);
  if (flagStr(p, 'output') === 'json') process.stdout.write(JSON.stringify(added.map((a) => a.entry), null, 2) + '\n');
  else for (const a of added) process.stdout.write(`${a.replaced ? 'replaced' : 'added'} ${line(a.entry)}\n`);
  return 0;
}

export async function deleteCommand(argv: string[]): Promise<number> {
  const p = parseFlags(argv, FLAGS, REGISTRY_USAGE, BOOLS);
  const file = hooksDbPath(flagStr(p, 'hooks-db'));
  let gone: RegistryEntry[];
  if (p.flags.has('id')) {
    if (p.positional.length) throw usageError('either --id ID or script|module PATH, not both');
    gone = deleteHooks(file, { id: flagStr(p, 'id') });
  } else {
    const { kind, ref } = reference(p);
    const match: Partial<Descriptor> = {};
    for (const k of DESCRIPTOR_FLAGS.filter((f) => p.flags.has(f) && f !== 'weight' && f !== 'escalateprivs')) (match as Record<string, string>)[k] = flagStr(p, k)!;
    gone = deleteHooks(file, { kind, ref, match });
  }
  if (!gone.length) throw new LiegeError('LIEGE_ERR_REGISTRY', `no registered hook matches in ${file}`, { text: argv.join(' '), expected: 'the reference and descriptors it was added with (see `liege hooks list`)' });
  if (flagStr(p, 'output') === 'json') process.stdout.write(JSON.stringify(gone, null, 2) + '\n');
  else for (const e of gone) process.stdout.write(`deleted ${line(e)}\n`);
  return 0;
}

/** The registry grouped by category and event, in run order (for --output json). */
export function registryJson(file: string): { registry: string; hooks: Record<string, Record<string, RegistryEntry[]>> } {
  const o: Record<string, Record<string, RegistryEntry[]>> = {};
  for (const [c, events] of grouped(loadRegistry(file))) o[c] = Object.fromEntries(events);
  return { registry: file, hooks: o };
}

/** The same, for people. */
export function listRegistry(file: string): string {
  const groups = grouped(loadRegistry(file));
  const out = [`hook registry ${file}${groups.size ? '' : ': empty'}`];
  for (const [c, events] of groups) {
    out.push(`${c}:`);
    for (const [ev, entries] of events) {
      out.push(`  ${ev}:`);
      for (const e of entries) out.push(`    ${e.stage} ${String(e.weight).padStart(4)}  ${e.kind} ${e.ref}${e.action ? ` ${e.action}` : ''}  (id ${e.id}${e.check ? `, check ${e.check}` : ''}${e.rollback ? `, rollback ${e.rollback}` : ''}${e.escalateprivs ? ', escalateprivs' : ''})`);
    }
  }
  return out.join('\n') + '\n';
}
