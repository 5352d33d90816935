// Node's CommonJS Module class without require('node:module'): the public
// module (lib/module.js) also loads the ESM loader and the source-map
// support, ~0.2 MiB of a master's RSS (node-binary pages and heap) that a
// master which only resolves its app's path never uses (bench/README.md,
// helper b, session 13). The class is the constructor of every CommonJS
// module object, this file's own included (in the CLI bundle, the bundle's).
import type * as NodeModuleNs from 'node:module';

type NodeModule = typeof NodeModuleNs & (new (id: string) => NodeJS.Module);

let cls: NodeModule | undefined;

export function nodeModule(): NodeModule {
  if (cls) return cls;
  const own = typeof module === 'object' && module !== null ? (module.constructor as Partial<NodeModule>) : undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  cls = typeof own?.createRequire === 'function' ? (own as NodeModule) : (require('node:module') as NodeModule);
  return cls;
}
