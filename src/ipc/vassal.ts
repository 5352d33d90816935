// The emperor ↔ vassal pipe (uWSGI's UWSGI_EMPEROR_FD socketpair): single
// command bytes both ways. Shared by emperor/, master/ and worker/ (the
// single-process instance).

export const EMPEROR_FD_ENV = 'UWSGI_EMPEROR_FD';
export const EMPEROR_FD = 3; // the pipe is the vassal's fd 3

/** Emperor → vassal (uWSGI's bytes). */
export const TO_VASSAL = { stop: 0, reload: 1, gracefulStop: 2 } as const;

/** Vassal → emperor (uWSGI's bytes): started, accepting, loyal, heartbeat. */
export const FROM_VASSAL = { ready: 1, accepting: 5, loyal: 17, heartbeat: 26 } as const;

/** A vassal exits with this when its config is invalid: not respawned until
 * the config changes (uWSGI's UWSGI_EXILE_CODE, "do not respawn"). */
export const EXILE_CODE = 26;

/** Listening sockets a process inherits (JSON [{ addr, fd, port }]): across
 * a reload, and from the emperor for an on-demand vassal. */
export const SOCKET_FDS_ENV = 'LIEGE_SOCKET_FDS';

/** The vassal prelude's job (as-vassal hooks, vassals-start-hook), JSON in this variable. */
export const VASSAL_ENV = 'LIEGE_VASSAL';

/** What the vassal runs before it becomes the instance (in the same pid). */
export interface VassalJob {
  config: string;
  startHook?: string;
  hooks: import('../config/config').HookLine[]; // as-vassal lines of the emperor
  ctx: import('../hooks/actions/types').HookContext;
}

export interface EmperorLink {
  /** Send a byte to the emperor (ignored when the pipe is gone). */
  tell(byte: number): void;
  /** Send a heartbeat every `seconds` (unref'd timer). */
  heartbeat(seconds: number): void;
  /** Keep the pipe open across an exec (reload in place). */
  keepAcrossExec(setCloexec: (fd: number, on: boolean) => void): void;
}

/** In a vassal: read the emperor's commands on UWSGI_EMPEROR_FD; undefined
 * when not run by an emperor. `setCloexec` keeps the pipe from workers. */
export function linkToEmperor(onCommand: (byte: number) => void, onLost: () => void, setCloexec: (fd: number, on: boolean) => void): EmperorLink | undefined {
  const fd = Number(process.env[EMPEROR_FD_ENV]);
  if (!process.env[EMPEROR_FD_ENV] || !Number.isInteger(fd) || fd < 0) return undefined;
  setCloexec(fd, true); // not for workers and daemons; cleared again for a reload
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const net = require('node:net') as typeof import('node:net'); // not for hook-only starts
  const pipe = new net.Socket({ fd, readable: true, writable: true });
  let lost = false;
  const lose = () => {
    if (lost) return;
    lost = true;
    onLost();
  };
  pipe.on('data', (buf: Buffer) => { for (const byte of buf) onCommand(byte); });
  pipe.on('end', lose);
  pipe.on('error', lose);
  return {
    tell: (byte) => { if (!lost) pipe.write(Buffer.from([byte])); },
    heartbeat: (seconds) => { setInterval(() => { if (!lost) pipe.write(Buffer.from([FROM_VASSAL.heartbeat])); }, seconds * 1000).unref(); },
    keepAcrossExec: (set) => set(fd, false),
  };
}
