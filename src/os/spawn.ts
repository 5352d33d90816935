// Running a program from a running event loop: started with the same vfork
// + execve as the startup path (PDEATHSIG, default signals, exec errors
// thrown at once), but waited for on a native thread, so signals, timers
// and IPC keep flowing while it runs (DESIGN: loops never block).
import { native } from './native';

/** [exit code or -1, terminating signal or 0], once the program ended. */
export function spawnAwait(path: string, argv: string[], env?: NodeJS.ProcessEnv): Promise<[number, number]> {
  const envp = env ? Object.entries(env).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`) : null;
  return new Promise((resolve, reject) => {
    native.spawnAsync(path, argv, envp, (err, status) => {
      if (err) reject(err);
      else resolve(status!);
    });
  });
}
