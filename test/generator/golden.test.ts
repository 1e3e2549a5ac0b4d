// Golden files: for every examples/*/raft.yaml, what generate() makes of it must be exactly
// the committed examples/*/generated/* and raft.lock.json (vitest's toMatchFileSnapshot with
// real extensions, so editors and tsc read the snapshots as code). Under CI=true a missing or
// changed file fails instead of being written. The same check runs through the CLI
// (`raftgen build --check`), as CI's "regenerate and diff" step.

import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { generate } from "../../generator/index.js";
import { main } from "../../generator/cli.js";
import { raftgenPackage } from "../../generator/version.js";

const EXAMPLES = resolve(import.meta.dirname, "../../examples");
const examples = readdirSync(EXAMPLES).filter((d) => existsSync(join(EXAMPLES, d, "raft.yaml"))).sort();

test("there are the three examples of the issue", () => {
  expect(examples).toEqual(["counter", "lock", "placement-center"]);
});

describe.each(examples)("examples/%s", (name) => {
  const dir = join(EXAMPLES, name);
  const lockPath = join(dir, "raft.lock.json");

  test("generated/ and raft.lock.json are what the spec gives", async () => {
    const result = generate(readFileSync(join(dir, "raft.yaml"), "utf8"), {
      specFile: "raft.yaml",
      ...(existsSync(lockPath) ? { lockText: readFileSync(lockPath, "utf8") } : {}),
      version: raftgenPackage().version,
    });
    expect(result.issues).toEqual([]);
    for (const f of result.files) await expect(f.content).toMatchFileSnapshot(join(dir, f.path));
    await expect(result.lockText).toMatchFileSnapshot(lockPath);
    const onDisk = readdirSync(join(dir, "generated")).map((f) => `generated/${f}`).sort();
    expect(onDisk).toEqual(result.files.map((f) => f.path));
  });

  test("raftgen build --check finds nothing to change", async () => {
    const out: string[] = [];
    const code = await main(["build", "--check", join(dir, "raft.yaml")], { stdout: (s) => out.push(s), stderr: (s) => out.push(s) });
    expect(out.join(""), out.join("")).toMatch(/up to date/);
    expect(code).toBe(0);
  });
});
