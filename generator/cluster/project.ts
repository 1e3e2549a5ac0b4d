// A raftgen project as `raftgen cluster` sees it: where its spec is, and whether its
// generated/ code must be rebuilt before the cluster starts.
//
// A project is a directory with raft.yaml (or a spec file named directly; its directory is the
// project). generated/ is stale when it is missing, has no server.ts, or is older than
// raft.yaml, raft.lock.json or anything under src/. Because `raftgen build` leaves files whose
// content did not change untouched, "older" compares against the later of the newest
// generated file and <project>/.raftgen/built, a stamp touched after every build made here;
// otherwise editing a handler would rebuild on every start.
//
// Errors are ClusterErrors (errors.ts); this module never starts processes.

import { existsSync } from "node:fs";
import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { buildSpec } from "../build-command.js";
import { ClusterError } from "./errors.js";

export interface Project {
  /** The project directory (absolute). */
  dir: string;
  /** The spec file (absolute). */
  spec: string;
}

/** The project named by a directory or a spec path; a ClusterError ("usage") when there is none. */
export async function resolveProject(pathArg: string): Promise<Project> {
  const p = resolve(pathArg);
  let st;
  try {
    st = await stat(p);
  } catch {
    throw new ClusterError("usage", `${pathArg}: no such file or directory`);
  }
  if (st.isDirectory()) {
    const spec = join(p, "raft.yaml");
    if (!existsSync(spec)) throw new ClusterError("usage", `${pathArg}: no raft.yaml in this directory (give a project directory or its spec file)`);
    return { dir: p, spec };
  }
  if (!st.isFile()) throw new ClusterError("usage", `${pathArg}: not a file or directory`);
  return { dir: dirname(p), spec: p };
}

const STAMP = join(".raftgen", "built");

async function mtime(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return undefined;
  }
}

/** The newest modification time of the files under `dir` (recursive), or undefined when empty. */
async function newest(dir: string, recursive: boolean): Promise<number | undefined> {
  let best: number | undefined;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    let t: number | undefined;
    if (e.isDirectory()) t = recursive && e.name !== "node_modules" && !e.name.startsWith(".") ? await newest(p, true) : undefined;
    else if (e.isFile()) t = await mtime(p);
    if (t !== undefined && (best === undefined || t > best)) best = t;
  }
  return best;
}

/** Why generated/ must be rebuilt, or undefined when it is up to date. */
export async function staleReason(project: Project): Promise<string | undefined> {
  const gen = join(project.dir, "generated");
  if (!existsSync(join(gen, "server.ts"))) return "generated/ is missing";
  const built = Math.max((await newest(gen, false)) ?? 0, (await mtime(join(project.dir, STAMP))) ?? 0);
  const inputs: [string, number | undefined][] = [
    [basename(project.spec), await mtime(project.spec)],
    ["raft.lock.json", await mtime(join(dirname(project.spec), "raft.lock.json"))],
    ["src/", await newest(join(project.dir, "src"), true)],
  ];
  const changed = inputs.filter(([, t]) => t !== undefined && t > built).map(([name]) => name);
  return changed.length ? `${changed.join(", ")} changed since generated/ was built` : undefined;
}

/**
 * Run `raftgen build` on the project when generated/ is stale. Returns a line saying what was
 * done (undefined when nothing was). Spec problems are a ClusterError ("spec") carrying the
 * formatted diagnostics; nothing is written then.
 */
export async function buildIfStale(project: Project): Promise<string | undefined> {
  const reason = await staleReason(project);
  if (reason === undefined) return undefined;
  let diagnostics = "";
  const sink = { stdout: () => undefined, stderr: (s: string) => void (diagnostics += s) };
  let outcome;
  try {
    outcome = await buildSpec(project.spec, { outDir: project.dir }, sink);
  } catch (err) {
    throw new ClusterError("usage", `cannot build ${project.spec}: ${(err as Error).message}`);
  }
  if (!outcome) throw new ClusterError("spec", `${basename(project.spec)} has problems; nothing was started`, diagnostics);
  try {
    await mkdir(join(project.dir, ".raftgen"), { recursive: true });
    await writeFile(join(project.dir, STAMP), `${new Date().toISOString()}\n`);
  } catch (err) {
    throw new ClusterError("usage", `cannot write ${join(project.dir, ".raftgen")}: ${(err as Error).message}`);
  }
  const n = outcome.written.length;
  const parts = [`${n} file${n === 1 ? "" : "s"} written to generated/`];
  if (outcome.removed.length) parts.push(`${outcome.removed.length} removed`);
  if (outcome.lockChanged) parts.push("raft.lock.json updated");
  if (outcome.stubWritten) parts.push("src/handlers.ts stub written");
  return `built (${reason}): ${parts.join(", ")}`;
}
