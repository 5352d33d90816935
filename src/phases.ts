// The hook phase table: every phase liege knows, in startup order, with who
// runs it, whether a failure is fatal, and which option families feed it.
// Pure data: config/options.ts derives the hook-/exec-/call-/mount-/umount-
// options from it, hooks/run.ts the fatal policy, docs/hooks.md the text.

export type Family = 'hook' | 'mount' | 'umount' | 'exec' | 'call';

export interface PhaseDef {
  name: string; // as in the option names: hook-<name>
  fatal: boolean;
  families: readonly Family[];
  process: string; // which process runs it
  privileges: string;
  when: string;
  implemented: boolean; // false: accepted and validated, run by a later subsystem
}

const ALL: readonly Family[] = ['hook', 'mount', 'umount', 'exec', 'call'];
const HEC: readonly Family[] = ['hook', 'exec', 'call'];
const H: readonly Family[] = ['hook'];

/** Inside one phase the families run in this order (uWSGI core/hooks.c). */
export const FAMILY_ORDER: readonly Family[] = ['hook', 'mount', 'umount', 'exec', 'call'];

export const PHASES: readonly PhaseDef[] = [
  { name: 'asap', fatal: true, families: ALL, process: 'master (initial process)', privileges: 'as started (root)', when: 'right after the config is loaded; again on every reload', implemented: true },
  { name: 'pre-jail', fatal: true, families: ALL, process: 'master (initial process)', privileges: 'as started', when: 'before jailing (chroot, namespace); skipped on reload', implemented: true },
  { name: 'in-jail', fatal: true, families: ALL, process: 'master; with `namespace` the cloned child (pid 1)', privileges: 'as started', when: 'inside the jail, before `unshare` and `chroot`', implemented: true },
  { name: 'post-jail', fatal: true, families: ALL, process: 'master; with `namespace` the parent, with UWSGI_JAIL_PID set', privileges: 'as started', when: 'after `unshare` or with `jailed`; never for a plain `chroot`', implemented: true },
  { name: 'as-root', fatal: true, families: ALL, process: 'master', privileges: 'root', when: 'after chroot/pivot-root, before the uid/gid drop; only when root; once per start', implemented: true },
  { name: 'as-user', fatal: true, families: HEC, process: 'master', privileges: 'the target uid/gid', when: 'right after the privilege drop (also when staying root); only when started as root (else skipped and said, as uWSGI skips it); once per start', implemented: true },
  { name: 'pre-app', fatal: true, families: HEC, process: 'master', privileges: 'user', when: 'before the app is loaded', implemented: true },
  { name: 'post-app', fatal: true, families: HEC, process: 'master', privileges: 'user', when: 'after the app is loaded, before workers start', implemented: true },
  { name: 'post-fork', fatal: true, families: H, process: 'each worker', privileges: 'user', when: 'when a worker starts', implemented: true },
  { name: 'accepting', fatal: true, families: H, process: 'each worker', privileges: 'user', when: 'right before the worker accepts requests', implemented: true },
  { name: 'accepting-once', fatal: true, families: H, process: 'each worker', privileges: 'user', when: 'like accepting, first start of a worker slot only', implemented: true },
  { name: 'accepting1', fatal: true, families: H, process: 'worker 1', privileges: 'user', when: 'like accepting, worker 1 only', implemented: true },
  { name: 'accepting1-once', fatal: true, families: H, process: 'worker 1', privileges: 'user', when: 'like accepting1, first start only', implemented: true },
  { name: 'master-start', fatal: true, families: H, process: 'master', privileges: 'user', when: 'when the master loop starts, workers forked', implemented: true },
  { name: 'as-user-atexit', fatal: false, families: HEC, process: 'master', privileges: 'whatever the master has then', when: 'whenever the master exits (normal end, fatal hook, `exit` action) and before a reload', implemented: true },
  { name: 'configure', fatal: true, families: HEC, process: 'master (reload)', privileges: 'the master\'s (the user after the drop)', when: 'on every reload, with the new config, before it replaces the running generation; a failure refuses the reload and the old generation keeps serving', implemented: true },
  { name: 'emperor-start', fatal: true, families: H, process: 'emperor', privileges: 'emperor', when: 'before the first scan', implemented: true },
  { name: 'as-vassal', fatal: true, families: ALL, process: 'vassal, before exec', privileges: 'emperor', when: 'in the forked vassal before it execs', implemented: true },
  { name: 'as-emperor', fatal: false, families: ALL, process: 'emperor', privileges: 'emperor', when: 'after a vassal is spawned', implemented: true },
  { name: 'emperor-stop', fatal: false, families: H, process: 'vassal master', privileges: 'user', when: 'when the emperor stops the vassal', implemented: true },
  { name: 'emperor-reload', fatal: false, families: H, process: 'vassal master', privileges: 'user', when: 'when the emperor reloads the vassal', implemented: true },
  { name: 'emperor-lost', fatal: false, families: H, process: 'vassal master', privileges: 'user', when: 'when the emperor pipe breaks', implemented: true },
  { name: 'as-mule', fatal: true, families: H, process: 'each mule', privileges: 'user', when: 'mule start', implemented: false },
  { name: 'as-gateway', fatal: true, families: H, process: 'each gateway', privileges: 'user', when: 'gateway start', implemented: false },
];

/** Extra uWSGI call- shortcut variants with arguments (emperor only). */
export const EXTRA_CALL_OPTIONS = ['call-as-vassal1', 'call-as-vassal3', 'call-as-emperor1', 'call-as-emperor2', 'call-as-emperor4'];

export function phaseByName(name: string): PhaseDef | undefined {
  return PHASES.find((p) => p.name === name);
}

/** Request hook events of the workers (src/worker/request-hooks.ts), in the
 * order they happen in one request; the hook registry validates against it. */
export const REQUEST_EVENTS = ['connect', 'parsed-headers', 'pre-route', 'post-route', 'body-chunk', 'body-complete', 'response-started', 'response-finished'] as const;
export type RequestEvent = (typeof REQUEST_EVENTS)[number];

/** Phases of the emperor and of a vassal's relation to it: the registry's `Vassal` category. */
export const VASSAL_PHASES = ['emperor-start', 'as-vassal', 'as-emperor', 'emperor-stop', 'emperor-reload', 'emperor-lost'];
