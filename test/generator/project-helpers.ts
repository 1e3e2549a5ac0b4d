// Helpers for the generator's end-to-end tests (fresh-project.test.ts, evolution.test.ts):
// running commands as a user would (exit code and output, with a deadline), an environment for
// child npm/npx/vitest processes that does not leak the outer `npm test` or vitest run into
// them, keeping bin/raftgen.js's dist/ fresh, and taking a byte-exact picture of a directory
// to prove that a refused build wrote nothing.
//
// Test-only. It never touches anything outside the directories the caller names, except
// dist/ (rebuilt with this repository's own tsc when older than the sources).

import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";

export const REPO_ROOT = resolve(import.meta.dirname, "../..");

export interface RunResult {
  /** Exit code; null when killed (by the deadline or a signal). */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time, ms. */
  ms: number;
}

// Variables of the outer run that must not reach a child: `npm test` sets npm_config_local_prefix,
// npm_package_*, npm_lifecycle_* (a child npm would take the parent project for its own), vitest
// sets VITEST*/NODE_ENV (a child vitest would think it runs inside a worker; npm install with
// NODE_ENV=production would leave out devDependencies).
const KEEP_NPM = new Set(["npm_config_cache", "npm_config_registry", "npm_config_userconfig", "npm_config_globalconfig", "npm_config_cafile", "npm_config_proxy", "npm_config_https_proxy", "npm_config_noproxy", "npm_config_strict_ssl"]);

/** process.env without the outer npm script's and vitest's variables. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    const lower = k.toLowerCase();
    if (lower.startsWith("npm_") && !KEEP_NPM.has(lower)) continue;
    if (/^(VITEST|VITE_|TINYPOOL)/.test(k) || k === "NODE_ENV" || k === "NODE_OPTIONS" || k === "INIT_CWD" || k === "TEST") continue;
    env[k] = v;
  }
  return { ...env, NO_COLOR: "1", FORCE_COLOR: "0", ...extra };
}

/** Runs `cmd args` in `cwd`; never rejects (a spawn failure is code null with the error in stderr). */
export function run(cmd: string, args: readonly string[], cwd: string, timeoutMs: number): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, { cwd, env: childEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      stderr += `\n[test] ${cmd} ${args.join(" ")} killed after ${timeoutMs} ms\n`;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.once("error", (err) => {
      clearTimeout(timer);
      resolvePromise({ code: null, stdout, stderr: `${stderr}${err.message}`, ms: Date.now() - started });
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** What a failed command printed, for assertion messages. */
export function describeRun(what: string, r: RunResult): string {
  return `${what}: exit ${r.code} after ${r.ms} ms\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

/** Every .ts source under `dir` (recursively), not declarations. */
function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

/** Sources of runtime/ and generator/ whose dist/ .js is missing or older. */
export function staleDist(): string[] {
  const stale: string[] = [];
  for (const src of [...sources(join(REPO_ROOT, "runtime")), ...sources(join(REPO_ROOT, "generator"))]) {
    const rel = relative(REPO_ROOT, src);
    const out = join(REPO_ROOT, "dist", rel.replace(/\.ts$/, ".js"));
    if (!existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs) stale.push(rel);
  }
  return stale;
}

/**
 * bin/raftgen.js and the `raftgen/runtime/codegen-v1` export run dist/: rebuild it (as
 * `npm run build` does) when any source is newer. On CI, `npm ci` has just built it (prepare).
 */
export async function ensureDistFresh(): Promise<{ rebuilt: boolean; ms: number }> {
  const stale = staleDist();
  if (stale.length === 0) return { rebuilt: false, ms: 0 };
  const tsc = join(REPO_ROOT, "node_modules/typescript/bin/tsc");
  const r = await run(process.execPath, [tsc, "-p", "tsconfig.build.json"], REPO_ROOT, 300_000);
  if (r.code !== 0) throw new Error(describeRun(`dist/ was stale (${stale.slice(0, 3).join(", ")}...) and npm run build failed`, r));
  const still = staleDist();
  if (still.length > 0) throw new Error(`dist/ still stale after npm run build: ${still.join(", ")}`);
  return { rebuilt: true, ms: r.ms };
}

/** A directory's files (recursively, relative paths) with their bytes and modification times. */
export interface DirPicture {
  readonly files: ReadonlyMap<string, { readonly content: string; readonly mtimeMs: number }>;
}

export function pictureOf(dir: string): DirPicture {
  const files = new Map<string, { content: string; mtimeMs: number }>();
  const walk = (rel: string): void => {
    const abs = join(dir, rel);
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else files.set(r, { content: readFileSync(join(dir, r), "latin1"), mtimeMs: statSync(join(dir, r)).mtimeMs });
    }
  };
  if (existsSync(dir)) walk("");
  return { files };
}

/** The differences between two pictures ("changed: x", "added: y", "removed: z"); empty when equal. */
export function pictureDiff(before: DirPicture, after: DirPicture): string[] {
  const out: string[] = [];
  for (const [path, a] of before.files) {
    const b = after.files.get(path);
    if (!b) out.push(`removed: ${path}`);
    else if (a.content !== b.content) out.push(`changed: ${path}`);
    else if (a.mtimeMs !== b.mtimeMs) out.push(`rewritten: ${path}`);
  }
  for (const path of after.files.keys()) if (!before.files.has(path)) out.push(`added: ${path}`);
  return out.sort();
}
