// The loop's name → handler table, made of one table per concern. A name
// in two tables would be overridden without a word: a unit test keeps them
// apart, and checks that every command the control side sends has one.
import { COMMAND_HANDLERS } from './commands';
import type { Handlers } from './context';
import { RELOAD_HANDLERS } from './reload-commands';
import { STOP_HANDLERS } from './stop';
import { WORKER_HANDLERS } from './worker-events';

export const TABLES: Record<string, Handlers> = { reload: RELOAD_HANDLERS, stop: STOP_HANDLERS, commands: COMMAND_HANDLERS, workers: WORKER_HANDLERS };

export const HANDLERS: Handlers = Object.assign({}, ...Object.values(TABLES));
