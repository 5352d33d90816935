#!/usr/bin/env node
// The closing line of scripts/test-all.sh, from vitest's JSON report:
// "N passed, N failed[, N skipped]". A test file that fails to load (or
// fails in a beforeAll/afterAll hook) has no failed assertion of its own:
// it counts as one failed test, and is named above the line.
// Usage: node scripts/count-results.js REPORT.json [VITEST_EXIT_STATUS]
'use strict';
const fs = require('node:fs');
const path = require('node:path');

function count(report, vitestStatus) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const notes = [];
  for (const file of report.testResults ?? []) {
    const a = file.assertionResults ?? [];
    const failedHere = a.filter((t) => t.status === 'failed').length;
    passed += a.filter((t) => t.status === 'passed').length;
    skipped += a.filter((t) => t.status === 'skipped' || t.status === 'pending' || t.status === 'todo').length;
    failed += failedHere;
    if (file.status === 'failed' && failedHere === 0) {
      failed += 1;
      const why = String(file.message || 'failed outside its tests').split('\n')[0];
      notes.push(`FAILED FILE ${path.relative(process.cwd(), file.name)}: ${why}`);
    }
  }
  // vitest failed but no file says why (a crash, an unhandled error): still a failure
  if (failed === 0 && vitestStatus !== undefined && vitestStatus !== 0) {
    failed = 1;
    notes.push(`vitest exited with status ${vitestStatus} without a failed test`);
  }
  const line = `${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : '');
  return { passed, failed, skipped, notes, line };
}

if (require.main === module) {
  const status = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
  let r;
  try {
    r = count(JSON.parse(fs.readFileSync(process.argv[2], 'utf8')), status);
  } catch (e) {
    r = { failed: 1, notes: [`no vitest report (${e.message.split('\n')[0]})`], line: '0 passed, 1 failed' };
  }
  for (const n of r.notes) console.log(n);
  console.log(r.line);
  process.exitCode = r.failed ? 1 : 0;
}

module.exports = { count };
