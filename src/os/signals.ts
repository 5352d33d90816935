// Signal numbers by name, and the name of a number (node:os's, loaded on
// first use: node-os.ts).
import { nodeOs } from './node-os';

let numbers: Record<string, number> | undefined;
let names: Record<number, NodeJS.Signals> | undefined;

/** SIGTERM → 15 … (os.constants.signals). */
export function signalNumbers(): Record<string, number> {
  numbers ??= nodeOs().constants.signals as Record<string, number>;
  return numbers;
}

/** 15 → SIGTERM; null for a number no signal has. */
export function signalName(n: number): NodeJS.Signals | null {
  names ??= Object.fromEntries(Object.entries(signalNumbers()).map(([k, v]) => [v, k as NodeJS.Signals]));
  return names[n] ?? null;
}

/** A child's end as one status, as a shell says it: its exit code, or
 * 128+N when signal N killed it. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal) return 128 + (signalNumbers()[signal] ?? 0);
  return code ?? 0;
}
