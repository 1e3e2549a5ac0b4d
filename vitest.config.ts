import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// One configuration for the whole suite. The JSON report feeds the summary line that
// .ci/run prints ("N passed, N failed").
// Generated code imports "raftgen/runtime/codegen-v1": in this repository's tests it is the
// source (as tsconfig.json's "paths" says for the type checker), so no build is needed first.
export default defineConfig({
  resolve: {
    alias: [{ find: /^raftgen\/runtime\/codegen-v1$/, replacement: fileURLToPath(new URL("./runtime/codegen-v1/index.ts", import.meta.url)) }],
  },
  test: {
    include: ["test/**/*.test.ts", "examples/*/test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
