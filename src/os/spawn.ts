// Running a program from a running event loop: started with the same vfork
// + execve as the startup path (PDEATHSIG, default signals, exec errors
// thrown at once), but waited for on a native thread, so signals, timers
// and IPC keep flowing while it runs (DESIGN: loops never block).
import { native } from './native';
import { claim, release } from './reaper';

/** [exit code or -1, terminating signal or 0], once the program ended;
 * its stdout and stderr on the fd `out` when given. */
export function spawnAwait(path: string, argv: string[], env?: NodeJS.ProcessEnv, out?: number): Promise<[number, number]> {
  const envp = env ? Object.entries(env).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`) : null;
  return new Promise((resolve, reject) => {
    let pid = 0;
    pid = native.spawnAsync(path, argv, envp, (err, status) => {
      release(pid);
      if (err) reject(err);
      else resolve(status!);
    }, out);
    // the waiting thread reaps it: the master's subreaper must leave it alone
    claim(pid);
  });
}
