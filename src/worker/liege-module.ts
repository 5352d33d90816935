// `require('liege')` and `import … from 'liege'` in an app or a hook module
// resolve to the API of the liege that serves it (dist/api/index.js), even
// when the app does not have liege in its node_modules: the request hooks it
// adds must land in this worker. CommonJS through Module._resolveFilename;
// ESM through a module.register() resolve hook, set up only when the app or
// a hook module is ESM (the hook thread costs a few ms per worker start).
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isEsm } from './app';
import { nodeModule } from '../os/node-module';

const API = path.resolve(__dirname, '..', 'api', 'index.js');

/** Makes the bare name `liege` resolve to this liege's API for the given modules. */
export function provideLiegeModule(files: readonly string[]): void {
  const Module = nodeModule() as unknown as { _resolveFilename: (req: string, ...rest: unknown[]) => string };
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request: string, ...rest: unknown[]) {
    return request === 'liege' ? API : resolve.call(this, request, ...rest);
  };
  if (!files.some((f) => f && isEsm(path.resolve(f)))) return;
  // register() is the public node:module's (it loads the ESM loader, which an ESM app needs anyway)
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pub = require('node:module') as { register?: (url: string) => void };
  if (!pub.register) return;
  const hook = `export async function resolve(s, c, next) { return s === 'liege' ? { url: ${JSON.stringify(pathToFileURL(API).href)}, shortCircuit: true } : next(s, c); }`;
  pub.register(`data:text/javascript,${encodeURIComponent(hook)}`);
}
