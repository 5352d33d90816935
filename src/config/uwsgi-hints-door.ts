// What to write instead of an ignored uWSGI option, through a function: in
// the bundle this file is `() => require('./uwsgi-hints')` (scripts/parts.js:
// a bundle part of its own, loaded by the first ignored option a config
// names, not by every master); from the sources it is a plain import.
import * as hints from './uwsgi-hints';

export const hintsModule = (): typeof hints => hints;
