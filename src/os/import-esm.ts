// import() that works inside the CLI bundle. bin/liege runs the bundle as a
// vm.Script with a V8 code cache, and a script restored from a code cache
// has no dynamic-import callback (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING),
// so ESM apps, js: hooks and request-hook modules import through a tiny
// module compiled by Node's own CommonJS loader instead.
import { nodeModule } from './node-module';

let importer: ((url: string) => Promise<Record<string, unknown>>) | undefined;

export function importEsm(url: string): Promise<Record<string, unknown>> {
  if (!importer) {
    const Module = nodeModule();
    const m = new Module(__filename) as NodeJS.Module & { _compile(code: string, filename: string): void };
    m._compile('module.exports = (url) => import(url);', __filename);
    importer = m.exports as typeof importer;
  }
  return importer!(url);
}
