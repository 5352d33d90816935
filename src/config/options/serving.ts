// Options of serving: apps, protocols, sockets, logs, stats, control.
import type { OptionDef } from '../option-def';

export const SERVING_OPTIONS = [] as const satisfies readonly OptionDef[];
