import { defineConfig } from "vitest/config";

// One configuration for the whole suite. The JSON report feeds the summary line that
// .ci/run prints ("N passed, N failed").
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
