// `raftgen init [dir] [--example placement-center|counter|lock]`: scaffold a project from one
// of the examples shipped with raftgen (default: counter): raft.yaml, raft.lock.json,
// src/handlers.ts and its test, plus package.json, tsconfig.json (strict), README.md and
// .gitignore rendered from templates/. The project's raftgen dependency points at the raftgen
// that ran init: a `file:` path when that is a checkout, the version range when it is an
// installed package. A directory that exists and is not empty is refused: init never
// overwrites anything.
//
// Exit codes: 0 created, 2 bad usage or a directory that is not empty.

import { existsSync } from "node:fs";
import { copyFile, mkdir, readdir, writeFile } from "node:fs/promises";
import { basename, join, relative, resolve, sep } from "node:path";
import type { CliIO } from "./cli.js";
import { parseCommandArgs } from "./cli-args.js";
import { suggest } from "./diagnostics.js";
import { render } from "./templates.js";
import { raftgenPackage } from "./version.js";

interface ExampleInfo {
  service: string;
  summary: string;
  /** A line or two of client code for the README. */
  example: string;
}

export const EXAMPLES: Readonly<Record<string, ExampleInfo>> = {
  counter: {
    service: "Counter",
    summary: "named 64-bit counters.",
    example: 'const { value } = await client.add({ name: "visits", delta: 1n });\nconsole.log(value, await client.get({ name: "visits" }));',
  },
  lock: {
    service: "LockService",
    summary: "named locks with owners, expiring leases and fencing tokens.",
    example: 'const { outcome, lock } = await client.acquire({ name: "leader", owner: "worker-1", ttlMs: 10_000 });\nconsole.log(outcome, lock.token);',
  },
  "placement-center": {
    service: "PlacementCenter",
    summary: "a key/value store and a registry of brokers (the placement center of RobustMQ).",
    example: 'await client.set({ key: "greeting", value: "hello" });\nconsole.log(await client.get({ key: "greeting" }));',
  },
};

export const INIT_USAGE = [
  "usage: raftgen init [dir] [--example placement-center|counter|lock]",
  "",
  "  dir        where to create the project (default: the current directory; must be empty or absent)",
  "  --example  which example to start from (default: counter)",
  "",
  "then: cd <dir> && npm install && npx raftgen build raft.yaml && npx tsc --noEmit",
].join("\n");

/** The top-level entries of an example that a new project gets. */
const EXAMPLE_PARTS = new Set(["raft.yaml", "raft.lock.json", "src", "test"]);

const TOOL_VERSIONS = { typesNode: "^20.19.43", typescript: "5.9", vitest: "^4.1.12" };

/** An npm package name from a directory name. */
function packageName(dir: string): string {
  const n = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[._-]+/, "");
  return n || "raftgen-service";
}

/** What the new project's package.json names as its raftgen dependency. */
function raftgenDependency(): string {
  const { root, version } = raftgenPackage();
  return root.split(sep).includes("node_modules") ? `^${version}` : `file:${root}`;
}

async function copyTree(from: string, to: string, skip: (rel: string) => boolean, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await readdir(join(from, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const r = rel ? `${rel}/${entry.name}` : entry.name;
    if (skip(r)) continue;
    if (entry.isDirectory()) {
      await mkdir(join(to, r), { recursive: true });
      out.push(...(await copyTree(from, to, skip, r)));
    } else {
      await copyFile(join(from, r), join(to, r));
      out.push(r);
    }
  }
  return out;
}

export async function initCommand(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs("init", INIT_USAGE, args, { example: { type: "string" } }, io);
  if (typeof parsed === "number") return parsed;
  if (parsed.positionals.length > 1) return parsed.usageError("expected at most one directory");
  const name = parsed.values.example ?? "counter";
  const info = Object.hasOwn(EXAMPLES, name) ? EXAMPLES[name] : undefined;
  if (!info) {
    const hint = suggest(name, Object.keys(EXAMPLES));
    io.stderr(`raftgen init: unknown example ${JSON.stringify(name)}${hint ? `; did you mean ${JSON.stringify(hint)}?` : ""} (examples: ${Object.keys(EXAMPLES).sort().join(", ")})\n`);
    return 2;
  }
  const dir = resolve(parsed.positionals[0] ?? ".");
  if (existsSync(dir) && (await readdir(dir)).length > 0) {
    io.stderr(`raftgen init: ${relative(process.cwd(), dir) || "."} is not empty; init never overwrites files (choose a new directory)\n`);
    return 2;
  }
  const source = join(raftgenPackage().root, "examples", name);
  await mkdir(dir, { recursive: true });
  // The example's spec, lock, handlers and tests, and nothing else: not its generated/ (build
  // makes it), nor what running it leaves behind (.raftgen/, data/).
  const copied = await copyTree(source, dir, (rel) => !rel.includes("/") && !EXAMPLE_PARTS.has(rel));
  const view = {
    name: packageName(dir),
    service: info.service,
    client: `${info.service}Client`,
    summary: info.summary,
    example: info.example,
    clusterId: packageName(dir),
    raftgen: raftgenDependency(),
    ...TOOL_VERSIONS,
  };
  const rendered: [string, string][] = [
    ["package.json", render("package.json.hbs", view)],
    ["tsconfig.json", render("tsconfig.json.hbs", view)],
    ["README.md", render("README.md.hbs", view)],
    [".gitignore", render("gitignore.hbs", view)],
  ];
  for (const [file, content] of rendered) await writeFile(join(dir, file), content);
  const rel = relative(process.cwd(), dir);
  const shown = rel === "" ? "." : rel.startsWith("..") ? dir : rel;
  const files = [...copied, ...rendered.map(([f]) => f)].sort();
  io.stdout(
    `raftgen init: created ${info.service} (example ${name}) in ${shown}: ${files.join(", ")}\n\nnext:\n  cd ${shown}\n  npm install\n  npx raftgen build raft.yaml\n  npx tsc --noEmit\n`,
  );
  return 0;
}
