// `raftgen build <spec.yaml> [--out <dir>] [--allow-breaking] [--check]`: validate the spec,
// reconcile it with raft.lock.json, and (re)write <out>/generated/. The generator owns
// generated/ entirely (files it no longer makes are removed); src/handlers.ts is written only
// when it does not exist. Files whose content did not change are not rewritten, so their
// modification times say when the code last changed.
//
// Exit codes: 0 built (or up to date), 1 the spec has problems (every one printed as
// file:line:col: message) or --check found stale files, 2 bad usage or unreadable files.
//
// This file wires generate() to the file system; it holds no generation logic.

import { existsSync, statSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";
import type { CliIO } from "./cli.js";
import { parseCommandArgs } from "./cli-args.js";
import { formatIssues } from "./diagnostics.js";
import type { GeneratedFile } from "./index.js";
import { raftgenPackage } from "./version.js";

export const BUILD_USAGE = [
  "usage: raftgen build <spec.yaml | project dir> [--out <dir>] [--allow-breaking] [--check]",
  "",
  "  --out             where generated/ (and src/handlers.ts, if missing) go; default: the spec's directory",
  "  --allow-breaking  accept spec changes that would misread existing data (see raft.lock.json)",
  "  --check           write nothing; exit 1 when generated/ or raft.lock.json is not what the spec gives",
  "",
  "exit status: 0 built, 1 problems in the spec (or stale files with --check), 2 bad usage or unreadable input",
].join("\n");

export const LOCK_FILE = "raft.lock.json";

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

export interface BuildOutcome {
  /** Paths (relative to the output directory) written because new or changed. */
  written: string[];
  /** Files removed from generated/ because the spec no longer makes them. */
  removed: string[];
  /** Whether raft.lock.json changed. */
  lockChanged: boolean;
  /** Whether src/handlers.ts was created. */
  stubWritten: boolean;
}

/** Builds a spec into `outDir`; returns undefined after printing issues. Usable by other commands (cluster). */
export async function buildSpec(
  specPath: string,
  opts: { outDir?: string; allowBreaking?: boolean; check?: boolean },
  io: CliIO,
): Promise<BuildOutcome | undefined> {
  // Loaded on demand: ts-morph takes most of a second to load, and other commands never need it.
  const { generate } = await import("./index.js");
  const text = await readFile(specPath, "utf8");
  const lockPath = join(dirname(specPath), LOCK_FILE);
  const lockText = await readIfExists(lockPath);
  const result = generate(text, {
    specFile: basename(specPath),
    ...(lockText !== undefined ? { lockText } : {}),
    allowBreaking: opts.allowBreaking ?? false,
    version: raftgenPackage().version,
  });
  if (result.issues.length > 0) {
    const specIssues = result.issues.filter((i) => !i.lock);
    const lockIssues = result.issues.filter((i) => i.lock);
    const shown = (p: string) => relative(process.cwd(), p) || p;
    if (specIssues.length) io.stderr(formatIssues(specIssues, shown(specPath), text));
    if (lockIssues.length) io.stderr(formatIssues(lockIssues, shown(lockPath), lockText ?? ""));
    return undefined;
  }
  const outDir = opts.outDir ?? dirname(specPath);
  const outcome: BuildOutcome = { written: [], removed: [], lockChanged: result.lockText !== lockText, stubWritten: false };
  const wanted = new Set(result.files.map((f) => f.path));
  const genDir = join(outDir, "generated");
  const existing = existsSync(genDir) ? await readdir(genDir) : [];
  for (const name of existing.sort()) {
    const path = `generated/${name}`;
    if (!wanted.has(path)) outcome.removed.push(path);
  }
  const changed: GeneratedFile[] = [];
  for (const f of result.files) {
    if ((await readIfExists(join(outDir, f.path))) !== f.content) changed.push(f);
  }
  outcome.written = changed.map((f) => f.path);
  const stubPath = join(outDir, "src", "handlers.ts");
  outcome.stubWritten = result.handlersStub !== undefined && !existsSync(stubPath);
  if (opts.check) return outcome;
  await mkdir(genDir, { recursive: true });
  for (const path of outcome.removed) await rm(join(outDir, path), { recursive: true, force: true });
  for (const f of changed) await writeFile(join(outDir, f.path), f.content);
  if (outcome.lockChanged && result.lockText !== undefined) await writeFile(lockPath, result.lockText);
  if (outcome.stubWritten && result.handlersStub) {
    await mkdir(dirname(stubPath), { recursive: true });
    await writeFile(stubPath, result.handlersStub.content);
  }
  return outcome;
}

export async function buildCommand(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs("build", BUILD_USAGE, args, { out: { type: "string" }, "allow-breaking": { type: "boolean" }, check: { type: "boolean" } }, io);
  if (typeof parsed === "number") return parsed;
  if (parsed.positionals.length !== 1) return parsed.usageError(`expected one spec file, got ${parsed.positionals.length}`);
  // A project directory means its raft.yaml.
  const given = resolve(parsed.positionals[0]!);
  const specPath = existsSync(given) && statSync(given).isDirectory() ? join(given, "raft.yaml") : given;
  const started = performance.now();
  let outcome: BuildOutcome | undefined;
  try {
    outcome = await buildSpec(
      specPath,
      { ...(parsed.values.out ? { outDir: resolve(parsed.values.out) } : {}), allowBreaking: parsed.values["allow-breaking"] ?? false, check: parsed.values.check ?? false },
      io,
    );
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    io.stderr(`raftgen build: ${e.code === "ENOENT" ? `no spec at ${relative(process.cwd(), specPath) || specPath}` : e.message}\n`);
    return 2;
  }
  if (!outcome) return 1;
  const ms = Math.round(performance.now() - started);
  const stale = [...outcome.written, ...outcome.removed, ...(outcome.lockChanged ? [LOCK_FILE] : [])];
  if (parsed.values.check) {
    if (stale.length === 0) {
      io.stdout(`raftgen build --check: up to date (${ms} ms)\n`);
      return 0;
    }
    io.stderr(`raftgen build --check: out of date: ${stale.join(", ")}\n`);
    return 1;
  }
  if (stale.length === 0) {
    io.stdout(`raftgen build: generated/ is up to date in ${ms} ms\n`);
  } else {
    const parts = [`${outcome.written.length} file${outcome.written.length === 1 ? "" : "s"} written to generated/`];
    if (outcome.removed.length) parts.push(`${outcome.removed.length} removed`);
    if (outcome.lockChanged) parts.push(`${LOCK_FILE} updated`);
    io.stdout(`raftgen build: ${parts.join(", ")} in ${ms} ms\n`);
  }
  if (outcome.stubWritten) io.stdout("raftgen build: wrote src/handlers.ts, a stub: implement your handlers there (it is never overwritten)\n");
  return 0;
}
