// The working directory as the user named it. process.cwd() is the physical
// one (getcwd resolves symlinks): started in /srv/app/current, a symlink to
// releases/r1, liege would say releases/r1 and keep loading r1 after the
// link moved to r2. The shell's PWD keeps the name as typed; it is used
// when it still names the directory we are in (`pwd -L` does the same).
import * as fs from 'node:fs';
import * as path from 'node:path';

/** PWD when it is this process's working directory, else process.cwd(). */
export function logicalCwd(): string {
  const pwd = process.env.PWD;
  let here: string;
  try {
    here = process.cwd();
  } catch {
    return '/'; // ours was removed: nothing to name
  }
  if (!pwd || !path.isAbsolute(pwd) || pwd === here) return here;
  try {
    const a = fs.statSync(pwd);
    const b = fs.statSync(here);
    if (a.dev === b.dev && a.ino === b.ino) return pwd;
  } catch { /* PWD is gone: the physical one */ }
  return here;
}
