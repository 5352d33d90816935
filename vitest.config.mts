import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // integration tests spawn real processes: two at a time on 2 cores
    maxWorkers: 2,
    // a range of loopback ports of this run's own (test/port-slot.ts)
    globalSetup: ['test/port-slot.ts'],
    reporters: ['default'],
  },
});
