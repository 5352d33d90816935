// Options of the emperor and its vassals.
import type { OptionDef } from '../option-def';

export const EMPEROR_OPTIONS = [] as const satisfies readonly OptionDef[];
