// Every feature of the spec language in one spec (test/generator/kitchen-sink/raft.yaml: all
// scalars, enums, a recursive type, optional and repeated messages, maps of messages, enums and
// bytes, explicit field numbers, a field named `type`, keys of every kind, commands without
// input or output, commands named `delete` and `new`, all three consistencies): generated into
// a temp project, compiled by tsc with --strict and --exactOptionalPropertyTypes together with
// hand-written handlers, then run through the generated client, values compared exactly.

import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { execFile } from "node:child_process";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, test } from "vitest";
import { generate } from "../../generator/index.js";

const ROOT = resolve(import.meta.dirname, "../..");
const SINK = join(import.meta.dirname, "kitchen-sink");
let dir = "";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "raftgen-sink-"));
  const result = generate(await readFile(join(SINK, "raft.yaml"), "utf8"), { version: "0.0.0" });
  expect(result.issues).toEqual([]);
  for (const f of result.files) {
    await mkdir(join(dir, "generated"), { recursive: true });
    await writeFile(join(dir, f.path), f.content);
  }
  await cp(join(SINK, "src"), join(dir, "src"), { recursive: true });
  await mkdir(join(dir, "node_modules"));
  await symlink(ROOT, join(dir, "node_modules", "raftgen"));
  await writeFile(join(dir, "package.json"), '{ "type": "module" }\n');
  const compilerOptions = {
    target: "ES2022",
    module: "NodeNext",
    moduleResolution: "NodeNext",
    lib: ["ES2022"],
    types: ["node"],
    typeRoots: [join(ROOT, "node_modules/@types")],
    strict: true,
    exactOptionalPropertyTypes: true,
    noUnusedLocals: true,
    skipLibCheck: true,
    noEmit: true,
  };
  await writeFile(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions, include: ["src/**/*.ts", "generated/**/*.ts"] }));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("the generated project compiles with --strict --exactOptionalPropertyTypes --noUnusedLocals", { timeout: 120_000 }, async () => {
  const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
  const out = await promisify(execFile)(process.execPath, [tsc, "-p", join(dir, "tsconfig.json")]).then(
    () => "",
    (err: { stdout?: string; stderr?: string }) => `${err.stdout ?? ""}${err.stderr ?? ""}`,
  );
  expect(out).toBe("");
});

test("every type round-trips exactly through the generated client and state machine", async () => {
  // The generated module is TypeScript in a temp dir: vitest compiles it, and resolves
  // raftgen/runtime/codegen-v1 to the runtime's source like the examples.
  const gen = await import(join(dir, "generated/index.ts"));
  const { handlers } = await import(join(dir, "src/handlers.ts"));
  const client = new gen.KitchenSinkClient({ local: gen.createStateMachine(handlers) });
  const everything = {
    s: "a",
    b: new Uint8Array([0, 255]),
    t: true,
    i32: -5,
    u32: 4_294_967_295,
    i64: -(2n ** 63n),
    u64: 2n ** 64n - 1n,
    d: 1.5,
    f: 0.25,
    c: "BLUE_ISH",
    cs: ["RED", "GREEN"],
    oc: "RED",
    m: { x: { label: "root", children: [{ label: "kid", children: [] }] } },
    me: { k: "GREEN" },
    mb: { z: new Uint8Array([9]) },
    tree: { label: "t", children: [], parent: { label: "up", children: [] } },
    rs: ["p", "q"],
    ri64: [-1n, 2n ** 62n],
    number7: 7,
    type: "typed",
  };
  expect(await client.put(everything)).toEqual(everything);
  await client.noop({});
  await client.new({ x: -3n });
  expect(await client.all({})).toEqual({ items: [everything], count: 1 });
  expect(await client.colors({ from: 0n })).toEqual({ colors: { "18446744073709551615": "BLUE_ISH" } });
  expect(await client.get({ key: "nope" })).toEqual({});
  expect(await client.delete({ key: "a" })).toEqual({ deleted: true });
  expect(await client.get({ key: "a" })).toEqual({});
});
