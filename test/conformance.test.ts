// The black-box suite recorded from real uWSGI 2.0.21 (../shared/conformance),
// one test per case, run against bin/liege. Needs root, like the suite. On a
// clone without ../shared beside it the suite is reported as skipped (one
// skipped test naming why), never as passed or silently absent.
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');
const SUITE = process.env.LIEGE_CONFORMANCE_DIR ?? path.resolve(ROOT, '..', 'shared', 'conformance');
const present = fs.existsSync(path.join(SUITE, 'cases'));
const cases = present ? fs.readdirSync(path.join(SUITE, 'cases')).sort() : [];

describe('uWSGI conformance (../shared/conformance)', () => {
  it.skipIf(!present)(present ? 'the suite is there' : `skipped: no conformance suite at ${SUITE}`, () => {
    expect(cases.length).toBeGreaterThan(30);
  });

  it.each(cases)('%s', async (name) => {
    const r = await execa(path.join(SUITE, 'run.sh'), [path.join(ROOT, 'bin', 'liege'), name], { reject: false, env: { CONFORMANCE_VERBOSE: '1' }, timeout: 90_000 });
    expect(r.stdout, r.stdout).toContain(`PASS ${name}`);
  });
});
