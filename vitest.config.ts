import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Tests start real servers on port 0; two cores are enough for two at a time.
    maxWorkers: 2,
  },
});
