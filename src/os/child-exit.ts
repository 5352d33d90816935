import type { ChildProcess } from 'node:child_process';

/** Resolves when `child` has exited (at once if it already has); calls
 * `kill` if it is still running after `mercyMs`. */
export function exited(child: ChildProcess | undefined, mercyMs: number, kill: () => void): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    setTimeout(kill, mercyMs).unref();
  });
}
