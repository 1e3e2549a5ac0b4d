// Compiling a project for `raftgen cluster`: its TypeScript (src/**/*.ts and generated/*.ts)
// becomes JavaScript under <project>/.raftgen/build/, in the same layout (src/handlers.ts ->
// .raftgen/build/src/handlers.js), ESM, with TypeScript's transpileModule: one file at a time,
// no type check, so it takes milliseconds. A file is transpiled only when its source is newer
// than its output; outputs whose source is gone are removed. The build directory gets a
// package.json `{"type":"module"}`.
//
// The compiled code imports "raftgen/runtime/codegen-v1". A project with raftgen in its
// node_modules resolves it from there. Otherwise (a copied example, a project not yet
// `npm install`ed, the examples inside the raftgen checkout, whose package self-reference the
// build directory's own package.json hides) the build directory gets node_modules/raftgen, a
// symbolic link to the raftgen that runs this code; its exports point at dist/, which must be
// built (`npm run build`, or `npm ci` through the prepare script). In a raftgen checkout, a
// dist/ older than runtime/'s sources is reported through io.log (nodes would run old code).
//
// This module checks syntax only: a syntax error is a CompileError with `file:line:col:`
// lines; type errors surface when the node loads the code (or with the project's own tsc).
// It never starts processes.

import { existsSync, lstatSync, readdirSync, statSync } from "node:fs";
import { mkdir, readdir, readFile, readlink, rename, rm, stat, symlink, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative, sep } from "node:path";
import { ts } from "ts-morph";
import { raftgenPackage } from "../version.js";

/** Where compiled projects go, relative to the project directory. */
export const BUILD_DIR = join(".raftgen", "build");

/** The project directories compileProject reads (recursively for src/, one level for generated/). */
const SOURCE_DIRS: readonly { dir: string; recursive: boolean }[] = [
  { dir: "src", recursive: true },
  { dir: "generated", recursive: false },
];

/** Syntax errors in a project's TypeScript: `file:line:col: message` lines. */
export class CompileError extends Error {
  override readonly name = "CompileError";
  constructor(readonly diagnostics: string) {
    super(`the project's TypeScript has syntax errors:\n${diagnostics}`);
  }
}

export interface CompileResult {
  /** <project>/.raftgen/build (absolute). */
  buildDir: string;
  /** The node entry: <build>/generated/server.js. */
  serverEntry: string;
  /** Sources transpiled by this call (relative to the project), and outputs removed. */
  compiled: string[];
  removed: string[];
  /** Where "raftgen/runtime/codegen-v1" comes from: the project's node_modules, or a link made here. */
  runtime: "project" | "linked";
}

export interface CompileIo {
  /** Progress and warnings, one line each (no newline). */
  log?(line: string): void;
}

/** A path for messages: relative to the working directory when inside it, else absolute. */
const shown = (p: string) => {
  const r = relative(process.cwd(), p);
  return r && !r.startsWith("..") ? r : p;
};

const isSource = (name: string) => name.endsWith(".ts") && !name.endsWith(".d.ts");

async function listSources(root: string, dir: string, recursive: boolean): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await readdir(join(root, dir), { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return out;
    throw err;
  }
  for (const e of entries) {
    const rel = join(dir, e.name);
    if (e.isDirectory()) {
      if (recursive && e.name !== "node_modules" && !e.name.startsWith(".")) out.push(...(await listSources(root, rel, true)));
    } else if (e.isFile() && isSource(e.name)) {
      out.push(rel);
    }
  }
  return out;
}

async function listOutputs(root: string, dir: string, recursive: boolean): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await readdir(join(root, dir), { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return out;
    throw err;
  }
  for (const e of entries) {
    const rel = join(dir, e.name);
    if (e.isDirectory() && recursive) out.push(...(await listOutputs(root, rel, true)));
    else if (e.isFile() && e.name.endsWith(".js")) out.push(rel);
  }
  return out;
}

const mtimeMs = async (path: string): Promise<number | undefined> => {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return undefined;
  }
};

const COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  sourceMap: true,
  removeComments: false,
  useDefineForClassFields: true,
};

function formatDiagnostic(d: ts.Diagnostic, file: string): string {
  const message = ts.flattenDiagnosticMessageText(d.messageText, "\n").split("\n")[0];
  if (d.file && d.start !== undefined) {
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    return `${file}:${line + 1}:${character + 1}: ${message}`;
  }
  return `${file}: ${message}`;
}

/** Whether `dir` or one of its ancestors has node_modules/raftgen (Node's node_modules lookup). */
function projectHasRaftgen(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, "node_modules", "raftgen", "package.json"))) return true;
    if (dirname(d) === d) return false;
  }
}

/** Write through a temporary file and a rename, so a concurrent reader sees the old or the new file. */
async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

/** Newest modification time of the .ts files under `dir` (synchronous: a checkout's runtime/ is small). */
function newestTs(dir: string): number {
  let best = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) best = Math.max(best, newestTs(p));
    else if (e.name.endsWith(".ts")) best = Math.max(best, statSync(p).mtimeMs);
  }
  return best;
}

/** In a raftgen checkout, say when dist/ (what nodes run) is older than the runtime's sources. */
function warnIfStale(root: string, entry: string, io: CompileIo): void {
  const sources = join(root, "runtime");
  if (!existsSync(sources)) return; // an installed package: dist/ is all there is
  if (newestTs(sources) > statSync(entry).mtimeMs) {
    io.log?.(`warning: ${join(root, "dist")} is older than ${sources}/ — nodes run dist/; run \`npm run build\` in ${root} to include the latest runtime changes`);
  }
}

/**
 * Make "raftgen/runtime/codegen-v1" resolvable from the build directory: nothing to do when
 * the project (or a directory above it) has node_modules/raftgen; otherwise link
 * <build>/node_modules/raftgen to the running raftgen. Safe to run concurrently.
 */
async function linkRuntime(projectDir: string, buildDir: string, io: CompileIo): Promise<"project" | "linked"> {
  const linkDir = join(buildDir, "node_modules");
  const link = join(linkDir, "raftgen");
  let current: string | undefined;
  try {
    if (lstatSync(link).isSymbolicLink()) current = await readlink(link);
  } catch {
    // no link yet
  }
  if (projectHasRaftgen(projectDir)) {
    // The project's own raftgen wins; a link left from before would shadow it.
    if (current !== undefined) await rm(link, { force: true });
    return "project";
  }
  const root = raftgenPackage().root;
  const entry = join(root, "dist", "runtime", "codegen-v1", "index.js");
  if (!existsSync(entry)) {
    throw new Error(`raftgen's runtime is not built (${entry} is missing): run \`npm run build\` in ${root}`);
  }
  warnIfStale(root, entry, io);
  if (current === root) return "linked";
  await mkdir(linkDir, { recursive: true });
  const tmp = `${link}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`;
  await symlink(root, tmp, process.platform === "win32" ? "junction" : "dir");
  await rename(tmp, link);
  io.log?.(`linked ${shown(link)} -> ${root} (the project has no raftgen in node_modules)`);
  return "linked";
}

/**
 * The output with its source map inlined, pointing at the source by a path relative to the
 * output (node --enable-source-maps and debuggers then show src/handlers.ts lines).
 */
function withInlineMap(result: ts.TranspileOutput, out: string, src: string): string {
  const code = result.outputText.replace(/\n?\/\/# sourceMappingURL=\S*\s*$/, "\n");
  if (!result.sourceMapText) return code;
  const map = JSON.parse(result.sourceMapText) as { sources: string[]; sourceRoot?: string; file?: string };
  map.sources = [relative(dirname(out), src).split(sep).join("/")];
  map.file = basename(out);
  delete map.sourceRoot;
  return `${code}//# sourceMappingURL=data:application/json;charset=utf-8;base64,${Buffer.from(JSON.stringify(map)).toString("base64")}\n`;
}

/**
 * Transpile the project's src/**\/*.ts and generated/*.ts into <project>/.raftgen/build/
 * (only what changed). Throws CompileError for syntax errors (nothing is written for the
 * files that have them), and a plain Error when generated/server.ts is missing.
 */
export async function compileProject(projectDir: string, io: CompileIo = {}): Promise<CompileResult> {
  const buildDir = join(projectDir, BUILD_DIR);
  const sources: string[] = [];
  for (const s of SOURCE_DIRS) sources.push(...(await listSources(projectDir, s.dir, s.recursive)));
  if (!sources.includes(join("generated", "server.ts"))) {
    throw new Error(`${join(projectDir, "generated", "server.ts")} is missing: run \`raftgen build\` first`);
  }
  const compiled: string[] = [];
  const errors: string[] = [];
  const wanted = new Set<string>();
  for (const rel of sources.sort()) {
    const outRel = rel.replace(/\.ts$/, ".js");
    wanted.add(outRel);
    const src = join(projectDir, rel);
    const out = join(buildDir, outRel);
    const [srcTime, outTime] = [await mtimeMs(src), await mtimeMs(out)];
    if (srcTime !== undefined && outTime !== undefined && outTime >= srcTime) continue;
    const text = await readFile(src, "utf8");
    const where = shown(src);
    const result = ts.transpileModule(text, { compilerOptions: COMPILER_OPTIONS, fileName: src, reportDiagnostics: true });
    const bad = (result.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
    if (bad.length > 0) {
      errors.push(...bad.map((d) => formatDiagnostic(d, where)));
      continue;
    }
    await mkdir(dirname(out), { recursive: true });
    await writeAtomic(out, withInlineMap(result, out, src));
    compiled.push(rel);
  }
  if (errors.length > 0) throw new CompileError(errors.join("\n"));
  const removed: string[] = [];
  for (const s of SOURCE_DIRS) {
    for (const rel of await listOutputs(buildDir, s.dir, s.recursive)) {
      if (!wanted.has(rel)) {
        await rm(join(buildDir, rel), { force: true });
        removed.push(rel);
      }
    }
  }
  const pkg = join(buildDir, "package.json");
  const pkgText = `${JSON.stringify({ type: "module", private: true, description: "compiled by raftgen cluster; do not edit" }, null, 2)}\n`;
  if ((await readFile(pkg, "utf8").catch(() => undefined)) !== pkgText) {
    await mkdir(buildDir, { recursive: true });
    await writeAtomic(pkg, pkgText);
  }
  const runtime = await linkRuntime(projectDir, buildDir, io);
  if (compiled.length > 0) io.log?.(`compiled ${compiled.length} file${compiled.length === 1 ? "" : "s"} to ${shown(buildDir)}${sep}`);
  return { buildDir, serverEntry: join(buildDir, "generated", "server.js"), compiled, removed, runtime };
}
