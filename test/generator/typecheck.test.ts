// The whole repository type-checks under --strict: the runtime, the generator, the tests, and
// every example's generated code with its handlers (tsconfig.json includes examples/ and maps
// `raftgen/runtime/codegen-v1` to the runtime's source). It also compiles the type tests in
// test/generator/types/, whose `// @ts-expect-error` lines must keep failing: an async handler,
// a write in a query, a wrong field type.

import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { expect, test } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

test("tsc --noEmit --strict passes on the repository, examples and type tests included", { timeout: 180_000 }, async () => {
  const tsc = resolve(ROOT, "node_modules/typescript/bin/tsc");
  const run = await promisify(execFile)(process.execPath, [tsc, "-p", "tsconfig.json", "--noEmit", "--strict"], { cwd: ROOT }).then(
    () => ({ ok: true, out: "" }),
    (err: { stdout?: string; stderr?: string }) => ({ ok: false, out: `${err.stdout ?? ""}${err.stderr ?? ""}` }),
  );
  expect(run.out).toBe("");
  expect(run.ok).toBe(true);
});
