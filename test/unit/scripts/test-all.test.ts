// The closing line of scripts/test-all.sh counts honestly: a test file that
// fails to load is a failure, and a missing ../shared/conformance is
// reported as skipped. Checked on real vitest runs, not on a made-up report.
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../../..');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'liege-count-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** Runs vitest with a JSON report, then scripts/count-results.js on it. */
async function runAndCount(args: string[], cwd: string, env: Record<string, string> = {}) {
  const report = path.join(scratch, `r${Math.random().toString(36).slice(2)}.json`);
  const v = await execa('npx', ['vitest', 'run', ...args, '--reporter=json', `--outputFile=${report}`], { cwd, reject: false, env });
  return execa('node', [path.join(ROOT, 'scripts', 'count-results.js'), report, String(v.exitCode)], { cwd: ROOT, reject: false });
}

describe('scripts/test-all.sh closing line', () => {
  it('counts a test file that fails to load as failed', async () => {
    const r = await runAndCount(['--config', 'vitest.config.mts'], path.join(ROOT, 'test/fixtures/vitest-count'));
    const lines = r.stdout.trim().split('\n');
    expect(lines.at(-1)).toBe('1 passed, 1 failed, 1 skipped');
    expect(r.stdout).toMatch(/FAILED FILE .*broken\.check\.ts: this file fails to load/);
    expect(r.exitCode).toBe(1);
  });

  it('reports the conformance suite as skipped when ../shared is not there', async () => {
    const r = await runAndCount(['test/conformance.test.ts'], ROOT, { LIEGE_CONFORMANCE_DIR: path.join(scratch, 'none') });
    expect(r.stdout.trim()).toBe('0 passed, 0 failed, 1 skipped');
    expect(r.exitCode).toBe(0);
  });

  it('a missing report is a failure, not a pass', async () => {
    const r = await execa('node', [path.join(ROOT, 'scripts', 'count-results.js'), path.join(scratch, 'absent.json'), '1'], { reject: false });
    expect(r.stdout.trim().split('\n').at(-1)).toBe('0 passed, 1 failed');
    expect(r.exitCode).toBe(1);
  });

  it('vitest failing without a failed test still counts one failure', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { count } = require('../../../scripts/count-results.js') as { count: (r: object, s?: number) => { line: string } };
    expect(count({ testResults: [{ status: 'passed', assertionResults: [{ status: 'passed' }] }] }, 1).line).toBe('1 passed, 1 failed');
    expect(count({ testResults: [{ status: 'passed', assertionResults: [{ status: 'passed' }] }] }, 0).line).toBe('1 passed, 0 failed');
  });
});
