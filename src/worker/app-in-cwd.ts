// A worker is started in the workers' directory as named (`current` →
// releases/r1): the kernel followed the link at the spawn. The app path is
// under the same name, and require() follows the link again when the app
// loads, a few hundred ms later. A deploy flipping the link in between had
// the worker run the next release's code in the previous release's
// directory, or fail to load when the link pointed at a release not there
// yet. The app is loaded from the directory the worker is in.
import * as path from 'node:path';

/** `app` moved from the named workers' directory `named` to the one this
 * process is in; as is when it lies elsewhere or the directory is gone. */
export function appInCwd(app: string | undefined, named: string | undefined): string | undefined {
  if (!app || !named) return app;
  const rel = path.relative(named, app);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return app;
  let here: string;
  try {
    here = process.cwd();
  } catch {
    return app; // removed under us: the load says so
  }
  return path.join(here, rel);
}
