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

/** Resolves once process group `pgid` is empty (a daemon's `sh -c` wrapper
 * is gone first; what it started still runs its own cleanup), or calls
 * `kill` at `deadline` (epoch ms) and resolves. */
export async function groupExited(pgid: number, deadline: number, kill: () => void): Promise<void> {
  while (groupAlive(pgid)) {
    if (Date.now() >= deadline) return kill();
    await new Promise((r) => setTimeout(r, 20));
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
