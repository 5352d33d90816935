// The emperor ↔ vassal pipe (uWSGI's UWSGI_EMPEROR_FD socketpair): single
// command bytes from the emperor. Shared by emperor/ and master/.
export const EMPEROR_FD_ENV = 'UWSGI_EMPEROR_FD';
export const EMPEROR_FD = 3; // the pipe is the vassal's fd 3

export const TO_VASSAL = { stop: 0, reload: 1, gracefulStop: 2 } as const;

export const VASSAL_ENV = 'LIEGE_VASSAL';

/** What the vassal launcher runs before it becomes the vassal. */
export interface VassalJob {
  config: string;
  startHook?: string;
  liege: string; // bin/liege to exec
  hooks: import('../config/config').HookLine[]; // as-vassal lines of the emperor
  ctx: import('../hooks/actions/types').HookContext;
}
