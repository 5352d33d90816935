// The action table and the actions' code (~14 KB of the CLI bundle) through
// a function: in the bundle this file is `() => require('./index')`
// (scripts/parts.js: the actions are a bundle part of their own, loaded by
// the first hook line parsed; a master without hooks never holds them);
// from the sources (tests, tsc's dist/) it is a plain import.
import * as actions from './index';

export const actionsModule = (): typeof actions => actions;
