// A new user's first minutes (issue 7, Proof 5), in a temporary directory and with the real
// commands: `raftgen init my-registry --example placement-center` (bin/raftgen.js of this
// checkout, so the project's raftgen dependency is a `file:` link to it), `npm install`,
// `npx raftgen build raft.yaml`, `npx tsc --noEmit` and `npm test`, each checked by exit code
// and by what it printed and wrote. Also what init refuses (a non-empty directory, an unknown
// example), what it does with no --example (the counter), and a project without handlers,
// for which build writes a stub that compiles.
//
// npm install is the one slow step (tens of seconds even from a warm cache: npm reads the
// linked checkout's whole tree); it runs once, with --prefer-offline so that a warm cache
// (CI's `npm ci` of this repository fills it with every package the project needs) is used
// and a cold one still works, and is retried once when it fails. The other projects link
// node_modules to that install instead of installing again. bin/raftgen.js runs dist/: the
// suite rebuilds it first when any source is newer.
//
// Everything happens under one mkdtemp directory, removed afterwards; this test must not write
// anywhere else (dist/ aside) and must not depend on the user's npm settings beyond the cache.

import { existsSync, lstatSync, readFileSync, readdirSync, realpathSync, statSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { REPO_ROOT, type RunResult, describeRun, ensureDistFresh, pictureDiff, pictureOf, run } from "./project-helpers.js";

const BIN = join(REPO_ROOT, "bin/raftgen.js");
const EXAMPLES = join(REPO_ROOT, "examples");
const GENERATED = ["client.ts", "descriptor.ts", "handlers.ts", "index.ts", "server.ts", "service.proto", "state.ts", "types.ts"];
const INSTALL_TIMEOUT_MS = 240_000;
const STEP_TIMEOUT_MS = 120_000;

let root = "";
/** node_modules of the project test 1 installed (later projects link to it). */
let installed: string | undefined;

/** `node bin/raftgen.js ...` from `cwd` (paths in its output are relative to cwd). */
function raftgen(args: readonly string[], cwd = root): Promise<RunResult> {
  return run(process.execPath, [BIN, ...args], cwd, STEP_TIMEOUT_MS);
}

/** `npx --no -- <args>` in a project: the local bin or nothing (never a download). */
function npx(project: string, args: readonly string[]): Promise<RunResult> {
  return run("npx", ["--no", "--", ...args], project, STEP_TIMEOUT_MS);
}

function expectOk(what: string, r: RunResult): void {
  expect(r.code, describeRun(what, r)).toBe(0);
}

async function npmInstall(project: string): Promise<RunResult> {
  const args = ["install", "--no-audit", "--no-fund", "--prefer-offline"];
  const first = await run("npm", args, project, INSTALL_TIMEOUT_MS);
  if (first.code === 0) return first;
  // A flaky registry or a half-filled cache: once more, then give up with both outputs.
  const second = await run("npm", args, project, INSTALL_TIMEOUT_MS);
  return second.code === 0 ? second : { ...second, stderr: `${describeRun("first npm install", first)}\n--- second attempt\n${second.stderr}` };
}

/** A project's node_modules: test 1's install when there is one, else a fresh `npm install`. */
async function provideNodeModules(project: string): Promise<void> {
  if (installed) {
    await symlink(installed, join(project, "node_modules"), "dir");
    return;
  }
  expectOk("npm install", await npmInstall(project));
}

const read = (path: string) => readFileSync(path, "utf8");
const listDir = (dir: string) => readdirSync(dir).sort();

beforeAll(async () => {
  await ensureDistFresh();
  root = await mkdtemp(join(tmpdir(), "raftgen-fresh-"));
}, 360_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe("a new project, as a user makes it", () => {
  test("init --example placement-center, npm install, raftgen build, tsc --noEmit, npm test", { timeout: 900_000 }, async () => {
    const project = join(root, "my-registry");
    const example = join(EXAMPLES, "placement-center");

    // raftgen init
    const init = await raftgen(["init", "my-registry", "--example", "placement-center"]);
    expectOk("raftgen init", init);
    const exampleFiles = ["raft.lock.json", "raft.yaml", "src/handlers.ts", ...listDir(join(example, "test")).map((f) => `test/${f}`)];
    const files = [".gitignore", "README.md", "package.json", "tsconfig.json", ...exampleFiles].sort();
    expect(init.stdout).toBe(
      `raftgen init: created PlacementCenter (example placement-center) in my-registry: ${files.join(", ")}\n\nnext:\n  cd my-registry\n  npm install\n  npx raftgen build raft.yaml\n  npx tsc --noEmit\n`,
    );
    expect(init.stderr).toBe("");
    for (const f of exampleFiles) expect(read(join(project, f)), f).toBe(read(join(example, f)));
    expect(existsSync(join(project, "generated"))).toBe(false);
    const pkg = JSON.parse(read(join(project, "package.json"))) as { name: string; type: string; dependencies: Record<string, string>; scripts: Record<string, string> };
    expect(pkg.name).toBe("my-registry");
    expect(pkg.type).toBe("module");
    expect(pkg.dependencies.raftgen).toBe(`file:${REPO_ROOT}`);
    expect(JSON.parse(read(join(project, "tsconfig.json"))).compilerOptions.strict).toBe(true);
    const handlersBefore = statSync(join(project, "src/handlers.ts")).mtimeMs;

    // npm install
    const install = await npmInstall(project);
    expectOk("npm install", install);
    expect(lstatSync(join(project, "node_modules/raftgen")).isSymbolicLink()).toBe(true);
    expect(realpathSync(join(project, "node_modules/raftgen"))).toBe(realpathSync(REPO_ROOT));
    installed = join(project, "node_modules");

    // npx raftgen build raft.yaml
    const build = await npx(project, ["raftgen", "build", "raft.yaml"]);
    expectOk("npx raftgen build raft.yaml", build);
    expect(build.stdout).toMatch(/^raftgen build: 8 files written to generated\/ in \d+ ms\n$/);
    expect(build.stderr).toBe("");
    expect(listDir(join(project, "generated"))).toEqual(GENERATED);
    // The installed CLI gives what the example's golden files hold: same spec, same bytes.
    for (const f of GENERATED) expect(read(join(project, "generated", f)), `generated/${f}`).toBe(read(join(example, "generated", f)));
    // The lock was already the spec's (init copies it): not rewritten.
    expect(read(join(project, "raft.lock.json"))).toBe(read(join(example, "raft.lock.json")));
    // src/handlers.ts existed: left alone.
    expect(read(join(project, "src/handlers.ts"))).toBe(read(join(example, "src/handlers.ts")));
    expect(statSync(join(project, "src/handlers.ts")).mtimeMs).toBe(handlersBefore);

    // A second build with nothing changed writes nothing.
    const again = await npx(project, ["raftgen", "build", "raft.yaml"]);
    expectOk("second raftgen build", again);
    expect(again.stdout).toMatch(/^raftgen build: generated\/ is up to date in \d+ ms\n$/);

    // npx tsc --noEmit: the project compiles under --strict.
    const tsc = await npx(project, ["tsc", "--noEmit"]);
    expectOk("npx tsc --noEmit", tsc);
    expect(tsc.stdout).toBe("");

    // npm test: the example's handler tests (its script rebuilds first, then vitest run).
    const tests = await run("npm", ["test"], project, STEP_TIMEOUT_MS);
    expectOk("npm test", tests);
    expect(tests.stdout).toContain("raftgen build: generated/ is up to date");
    expect(tests.stdout).toMatch(/Test Files\s+1 passed \(1\)/);
    expect(tests.stdout).toMatch(/Tests\s+\d+ passed \(\d+\)/);
  });

  test("a project without src/handlers.ts: build writes a stub that compiles, and never overwrites it", { timeout: 600_000 }, async () => {
    const project = join(root, "stub-project");
    expectOk("raftgen init", await raftgen(["init", "stub-project", "--example", "placement-center"]));
    await rm(join(project, "src/handlers.ts"));
    await provideNodeModules(project);

    const build = await npx(project, ["raftgen", "build", "raft.yaml"]);
    expectOk("raftgen build", build);
    expect(build.stdout).toMatch(
      /^raftgen build: 8 files written to generated\/ in \d+ ms\nraftgen build: wrote src\/handlers\.ts, a stub: implement your handlers there \(it is never overwritten\)\n$/,
    );
    const stub = read(join(project, "src/handlers.ts"));
    expect(stub).toMatch(/^import type \{ Handlers \} from "\.\.\/generated\/handlers\.js";\n/);
    expect(stub).toContain("export const handlers: Handlers = {");
    for (const [kind, name, ts] of [
      ["command", "delete", "delete"],
      ["command", "heartbeat", "heartbeat"],
      ["command", "register_node", "registerNode"],
      ["command", "set", "set"],
      ["command", "unregister_node", "unregisterNode"],
      ["query", "exists", "exists"],
      ["query", "get", "get"],
      ["query", "list_nodes", "listNodes"],
    ]) {
      expect(stub).toContain(`    ${ts}(input, ctx) {\n      throw new Error("${kind} ${name} is not implemented yet");\n    },\n`);
    }

    // The stub (and the example's tests, which import it) compile under --strict.
    const tsc = await npx(project, ["tsc", "--noEmit"]);
    expectOk("tsc --noEmit with the stub", tsc);
    expect(tsc.stdout).toBe("");

    // Once it exists it is the user's: a later build leaves an edited file alone.
    const mine = `${stub}// my edit\n`;
    await writeFile(join(project, "src/handlers.ts"), mine);
    const again = await npx(project, ["raftgen", "build", "raft.yaml"]);
    expectOk("second build", again);
    expect(again.stdout).not.toContain("src/handlers.ts");
    expect(read(join(project, "src/handlers.ts"))).toBe(mine);
  });

  test("init with no --example gives the counter, which builds, compiles and passes its tests", { timeout: 600_000 }, async () => {
    const project = join(root, "counter-default");
    const init = await raftgen(["init", "counter-default"]);
    expectOk("raftgen init", init);
    expect(init.stdout).toMatch(/^raftgen init: created Counter \(example counter\) in counter-default: /);
    const example = join(EXAMPLES, "counter");
    for (const f of ["raft.yaml", "raft.lock.json", "src/handlers.ts", "test/handlers.test.ts"]) expect(read(join(project, f)), f).toBe(read(join(example, f)));
    expect(JSON.parse(read(join(project, "package.json"))).name).toBe("counter-default");

    await provideNodeModules(project);
    const build = await npx(project, ["raftgen", "build", "raft.yaml"]);
    expectOk("raftgen build", build);
    expect(build.stdout).toMatch(/^raftgen build: 8 files written to generated\/ in \d+ ms\n$/);
    expect(listDir(join(project, "generated"))).toEqual(GENERATED);
    expectOk("tsc --noEmit", await npx(project, ["tsc", "--noEmit"]));
    const tests = await run("npm", ["test"], project, STEP_TIMEOUT_MS);
    expectOk("npm test", tests);
    expect(tests.stdout).toMatch(/Test Files\s+1 passed \(1\)/);
  });
});

describe("what init refuses", () => {
  test("a directory that is not empty: exit 2, and nothing in it changes", async () => {
    const dir = join(root, "occupied");
    await mkdir(join(dir, "src"), { recursive: true });
    await writeFile(join(dir, "raft.yaml"), "service: Mine\n");
    await writeFile(join(dir, "src/handlers.ts"), "// my handlers\n");
    const before = pictureOf(dir);
    const r = await raftgen(["init", "occupied", "--example", "placement-center"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("raftgen init: occupied is not empty; init never overwrites files (choose a new directory)\n");
    expect(pictureDiff(before, pictureOf(dir))).toEqual([]);

    // A directory holding only a dot-file is not empty either.
    const hidden = join(root, "hidden");
    await mkdir(hidden);
    await writeFile(join(hidden, ".env"), "X=1\n");
    const r2 = await raftgen(["init", "hidden"]);
    expect(r2.code).toBe(2);
    expect(listDir(hidden)).toEqual([".env"]);

    // The current directory (no dir argument) is checked the same way.
    const r3 = await raftgen(["init"], dir);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toBe("raftgen init: . is not empty; init never overwrites files (choose a new directory)\n");
    expect(pictureDiff(before, pictureOf(dir))).toEqual([]);
  });

  test("an unknown example: exit 2 with the closest name suggested, and no directory created", async () => {
    for (const [given, hint] of [
      ["placement-centre", "placement-center"],
      ["lok", "lock"],
      ["countr", "counter"],
    ]) {
      const r = await raftgen(["init", "typo-project", "--example", given]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe(`raftgen init: unknown example "${given}"; did you mean "${hint}"? (examples: counter, lock, placement-center)\n`);
    }
    const far = await raftgen(["init", "typo-project", "--example", "kafka"]);
    expect(far.code).toBe(2);
    expect(far.stderr).toBe('raftgen init: unknown example "kafka" (examples: counter, lock, placement-center)\n');
    expect(existsSync(join(root, "typo-project"))).toBe(false);
  });
});
