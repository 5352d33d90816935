// dir://DIR (or a plain directory): every config file directly in DIR.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileMonitor, type FileMonitorOptions } from './files';

export class DirMonitor extends FileMonitor {
  constructor(private readonly dir: string, opts: FileMonitorOptions) {
    super(`dir://${dir}`, opts);
  }

  protected list(): string[] {
    try {
      return fs.readdirSync(this.dir).sort().map((n) => path.join(this.dir, n));
    } catch {
      return [];
    }
  }

  protected dirs(): string[] {
    return [this.dir];
  }

  // uWSGI's dir monitor chdir()s into the directory its vassals are forked
  // from: their relative paths (node-app, sockets, logto) are the directory's
  protected override cwd(): string {
    return path.resolve(this.dir);
  }
}
