// bin/liege's first line starts Node with the flags liege's own processes
// run with; the code caches are recorded with LIEGE_NODE_FLAGS and an
// emperor gives those to its vassals: both lists must say the same (a
// cache recorded under other V8 flags is rejected: slower starts, more RSS).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LIEGE_NODE_FLAGS } from '../../../src/os/node-flags';

describe('the flags Node runs liege with', () => {
  it('bin/liege execs node with LIEGE_NODE_FLAGS', () => {
    const line = fs.readFileSync(path.resolve(__dirname, '../../../bin/liege'), 'utf8').split('\n')[1]!;
    const m = /exec node (.*) "\$0" "\$@"$/.exec(line);
    expect(m, line).not.toBeNull();
    expect(m![1]!.split(' ')).toEqual(LIEGE_NODE_FLAGS);
  });
});
