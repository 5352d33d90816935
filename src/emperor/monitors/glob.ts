// glob://PATTERN (or a bare pattern): the matching config files, sorted.
// Watched: the directories the pattern currently matches files in, and its
// fixed leading directory (so a new matching subdirectory is seen too).
import * as path from 'node:path';
import { globPaths } from '../../config/logic';
import { FileMonitor, type FileMonitorOptions } from './files';

export class GlobMonitor extends FileMonitor {
  constructor(private readonly pattern: string, opts: FileMonitorOptions) {
    super(`glob://${pattern}`, opts);
  }

  protected list(): string[] {
    return globPaths(this.pattern).filter((p) => !p.endsWith('/'));
  }

  protected dirs(): string[] {
    const parts = this.pattern.split('/');
    const fixed = parts.slice(0, parts.findIndex((p) => /[*?[]/.test(p))).join('/') || (this.pattern.startsWith('/') ? '/' : '.');
    const matched = this.list().map((f) => path.dirname(f));
    return [...new Set([path.resolve(fixed), ...matched.map((d) => path.resolve(d))])];
  }
}
