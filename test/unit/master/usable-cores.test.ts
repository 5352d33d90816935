// The boot gate's core count, read from /proc/self/status's Cpus_allowed_list
// (the sched_getaffinity mask os.availableParallelism() reads).
import * as os from 'node:os';
import { describe, expect, it } from 'vitest';
import { usableCores } from '../../../src/master/boot-gate';

describe('usableCores', () => {
  it('counts the CPUs of Cpus_allowed_list: single CPUs and ranges', () => {
    expect(usableCores('Name:\tnode\nCpus_allowed:\tf\nCpus_allowed_list:\t0-3,8,10-11\nMems_allowed:\t1\n')).toBe(7);
    expect(usableCores('Cpus_allowed_list:\t5\n')).toBe(1);
  });

  it('is what os.availableParallelism() says for this process', () => {
    expect(usableCores()).toBe(os.availableParallelism());
  });

  it('falls back to os.availableParallelism() without the line', () => {
    expect(usableCores('Name:\tnode\n')).toBe(os.availableParallelism());
    expect(usableCores('Cpus_allowed_list:\tgarbage\n')).toBe(os.availableParallelism());
  });
});
