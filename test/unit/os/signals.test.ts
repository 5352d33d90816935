// A child's end as a status: 128+N for signal N (a shell's), the code otherwise.
import { expect, it } from 'vitest';
import { exitStatus, signalName } from '../../../src/os/signals';

it('a child killed by signal N ends with 128+N, one that exited with its code', () => {
  expect(exitStatus(null, 'SIGKILL')).toBe(137);
  expect(exitStatus(null, 'SIGTERM')).toBe(143);
  expect(exitStatus(null, 'SIGINT')).toBe(130);
  expect(exitStatus(3, null)).toBe(3);
  expect(exitStatus(0, null)).toBe(0);
  expect(signalName(15)).toBe('SIGTERM');
});
