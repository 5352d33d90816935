// node:os, loaded on first use: loading it (its binding) costs a process
// ~0.3 MiB of RSS, which a master that never asks for a hostname, a user
// name or a signal's number does not pay (bench/README.md, session 15).
// (config/ cannot import this file: it has its own lazy require.)
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const nodeOs = (): typeof import('node:os') => require('node:os') as typeof import('node:os');
