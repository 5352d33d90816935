// The black-box suite recorded from real uWSGI 2.0.21 (../shared/conformance),
// one test per case, run against bin/liege. Needs root, like the suite.
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');
const SUITE = path.resolve(ROOT, '..', 'shared', 'conformance');
const cases = fs.readdirSync(path.join(SUITE, 'cases')).sort();

describe('uWSGI conformance (../shared/conformance)', () => {
  it('the suite is there', () => {
    expect(cases.length).toBeGreaterThan(30);
  });

  it.each(cases)('%s', async (name) => {
    const r = await execa(path.join(SUITE, 'run.sh'), [path.join(ROOT, 'bin', 'liege'), name], { reject: false, env: { CONFORMANCE_VERBOSE: '1' }, timeout: 90_000 });
    expect(r.stdout, r.stdout).toContain(`PASS ${name}`);
  });
});
