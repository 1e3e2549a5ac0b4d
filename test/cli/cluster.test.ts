// `raftgen cluster` and LocalCluster with real node processes: a copy of
// examples/placement-center in a temp directory (without generated/, so the first start builds
// it), compiled to .raftgen/build and run as 3 processes on ports found free at run time.
// Covered: cluster.json, calls through the compiled generated client, a node killed from
// outside reported with its signal and stderr tail, a clean stop leaving no process, a restart
// on the same --data finding the data, the in-place terminal line, kill/restart through the
// API, spec errors (diagnostics, nothing started), a port in use (named), bad usage, and
// compileProject's incremental transpiling.

import { cp, mkdtemp, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { type Server, createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CompileError, compileProject } from "../../generator/cluster/compile.js";
import { HTTP_PORT_OFFSET, type LocalCluster, LocalCluster as Supervisor, findFreeBasePort } from "../../generator/cluster/supervisor.js";
import { clusterCommand } from "../../generator/cluster-command.js";
import { REPO_ROOT, TEST_TUNING, sleep, waitFor } from "../cluster/harness.js";

const EXAMPLE = path.join(REPO_ROOT, "examples/placement-center");
const N = 3;

let root: string;
/** The project copy the cluster tests run. */
let project: string;
let data: string;
let port: number;
const pids = new Set<number>();
const clusters: LocalCluster[] = [];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function listen(p: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(undefined));
    s.listen({ host: "127.0.0.1", port: p, exclusive: true }, () => resolve(s));
  });
}

/** A base port P in [10000, 20000) with P..P+N-1 and P+1000..P+1000+N-1 free on 127.0.0.1 right now. */
const freeBase = () => findFreeBasePort({ nodes: N, from: 10_000, to: 20_000 });

async function copyProject(name: string, withGenerated: boolean): Promise<string> {
  const dir = path.join(root, name);
  await cp(EXAMPLE, dir, {
    recursive: true,
    filter: (src) => {
      const rel = path.relative(EXAMPLE, src);
      return !/^(test|data|\.raftgen)(\/|$)/.test(rel) && (withGenerated || !/^generated(\/|$)/.test(rel));
    },
  });
  return dir;
}

function capture() {
  const o = { out: "", err: "" };
  return { o, io: { stdout: (s: string) => void (o.out += s), stderr: (s: string) => void (o.err += s) } };
}

interface Entry {
  id: number;
  address: string;
  httpAddress: string;
  pid: number | null;
  dataDir: string;
}

async function readClusterFile(): Promise<Entry[] | undefined> {
  try {
    return JSON.parse(await readFile(path.join(data, "cluster.json"), "utf8")) as Entry[];
  } catch {
    return undefined;
  }
}

/** The compiled generated client of the project copy. */
async function clientOf(endpoints: string[]) {
  const mod = (await import(pathToFileURL(path.join(project, ".raftgen/build/generated/client.js")).href)) as {
    PlacementCenterClient: new (o: { endpoints: string[]; deadlineMs?: number }) => {
      set(i: { key: string; value: string }): Promise<void>;
      get(i: { key: string }): Promise<{ value?: string }>;
      registerNode(i: { clusterName: string; nodeId: bigint; nodeIp: string }): Promise<{ node: { nodeIp: string } }>;
      listNodes(i: { clusterName: string }): Promise<{ nodes: { nodeId: bigint }[] }>;
      close(): void;
    };
  };
  return new mod.PlacementCenterClient({ endpoints, deadlineMs: 15_000 });
}

const tuning = { ...TEST_TUNING };

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "raftgen-cli-cluster-"));
  project = await copyProject("pc", false);
  data = path.join(root, "data");
  port = await freeBase();
});

afterAll(async () => {
  for (const c of clusters) await c.stop();
  for (const pid of pids) {
    if (alive(pid)) process.kill(pid, "SIGKILL");
  }
  await rm(root, { recursive: true, force: true, maxRetries: 3 });
});

describe("raftgen cluster", () => {
  it("builds, starts 3 nodes, serves calls, reports a node killed from outside, and stops leaving no process", async () => {
    const { o, io } = capture();
    const stop = new AbortController();
    const run = clusterCommand([project, "--port", String(port), "--data", data], io, {
      signal: stop.signal,
      tty: false,
      handleSignals: false,
      cluster: { tuning, env: { RAFTGEN_LOG_LEVEL: "info" } },
    });
    let code: number | undefined;
    void run.then((c) => (code = c));
    try {
      const entries = await waitFor("cluster.json", async () => (code === undefined ? readClusterFile() : Promise.reject(new Error(`exited ${code}: ${o.err}`))), {
        timeoutMs: 60_000,
        intervalMs: 100,
      });
      for (const e of entries) if (e.pid) pids.add(e.pid);
      expect(entries.map((e) => e.id)).toEqual([1, 2, 3]);
      entries.forEach((e, i) => {
        expect(e.address).toBe(`127.0.0.1:${port + i}`);
        expect(e.httpAddress).toBe(`127.0.0.1:${port + HTTP_PORT_OFFSET + i}`);
        expect(e.dataDir).toBe(path.join(data, String(e.id)));
        expect(e.pid !== null && alive(e.pid)).toBe(true);
      });
      expect(existsSync(path.join(project, "generated/server.ts"))).toBe(true);
      await waitFor("the address lines", () => o.out.includes(path.join(data, "cluster.json")));
      for (const e of entries) expect(o.out).toContain(`gRPC ${e.address}  HTTP ${e.httpAddress}`);

      const client = await clientOf(entries.map((e) => e.address));
      try {
        await client.set({ key: "greeting", value: "hello" });
        expect(await client.get({ key: "greeting" })).toEqual({ value: "hello" });
        const reg = await client.registerNode({ clusterName: "c1", nodeId: 7n, nodeIp: "10.0.0.7" });
        expect(reg.node.nodeIp).toBe("10.0.0.7");
        expect((await client.listNodes({ clusterName: "c1" })).nodes.map((n) => n.nodeId)).toEqual([7n]);
      } finally {
        client.close();
      }
      await waitFor("a status line naming the leader", () => /leader \d+ {2}term \d+ {2}commit \d+ {2}applied \d+ \| 1 /.test(o.out), { timeoutMs: 15_000 });

      // kill -9 from outside: reported with the signal and the node's last stderr lines, not restarted.
      process.kill(entries[2]!.pid!, "SIGKILL");
      await waitFor("the exit report", () => o.err.includes("node 3 killed by signal SIGKILL"), { timeoutMs: 10_000 });
      expect(o.err).toMatch(/node 3 killed by signal SIGKILL; it is not restarted; its last stderr lines:\n {2}\| \[node 3\] /);
      const after = await waitFor("cluster.json without node 3's pid", async () => ((await readClusterFile())?.[2]?.pid === null ? readClusterFile() : undefined));
      expect(after!.slice(0, 2).map((e) => e.pid)).toEqual(entries.slice(0, 2).map((e) => e.pid));
      const reportedAt = o.err.length;
      await waitFor("node 3 down in the status line", () => o.out.includes("| 3 down (signal SIGKILL)"), { timeoutMs: 15_000 });
      await sleep(1_000);
      expect(alive(entries[2]!.pid!)).toBe(false);
      expect(o.err.slice(reportedAt)).not.toContain("[node 3]"); // not restarted: node 3 says nothing more
      expect((await readClusterFile())![2]!.pid).toBeNull();

      stop.abort();
      expect(await run).toBe(0);
      for (const e of entries) expect(alive(e.pid!)).toBe(false);
      expect(existsSync(path.join(data, "cluster.json"))).toBe(false);
      expect(o.out).toMatch(/stopped \(node 1 exit 0, node 2 exit 0, node 3 signal SIGKILL\)/);
    } finally {
      stop.abort();
      await run.catch(() => undefined);
    }
  });

  it("restarts on the same --data with the same ports and finds the data; draws the line in place on a terminal", async () => {
    const { o, io } = capture();
    const stop = new AbortController();
    const run = clusterCommand([path.join(project, "raft.yaml"), "--data", data], io, { signal: stop.signal, tty: true, columns: 200, handleSignals: false, cluster: { tuning } });
    let code: number | undefined;
    void run.then((c) => (code = c));
    try {
      const entries = await waitFor("cluster.json", async () => (code === undefined ? readClusterFile() : Promise.reject(new Error(`exited ${code}: ${o.err}`))), {
        timeoutMs: 60_000,
        intervalMs: 100,
      });
      for (const e of entries) if (e.pid) pids.add(e.pid);
      expect(entries.map((e) => e.address)).toEqual([0, 1, 2].map((i) => `127.0.0.1:${port + i}`));
      expect(o.out).not.toContain("built ("); // generated/ is up to date
      const client = await clientOf(entries.map((e) => e.address));
      try {
        expect(await client.get({ key: "greeting" })).toEqual({ value: "hello" });
        expect((await client.listNodes({ clusterName: "c1" })).nodes.map((n) => n.nodeId)).toEqual([7n]);
      } finally {
        client.close();
      }
      await waitFor("an in-place status line", () => /\r\x1b\[2Kleader \d+ {2}term/.test(o.out), { timeoutMs: 15_000 });
      expect(o.out).not.toMatch(/leader \d+ {2}term[^\r]*\n/); // never ends a status line with a newline
      stop.abort();
      expect(await run).toBe(0);
      for (const e of entries) expect(alive(e.pid!)).toBe(false);
    } finally {
      stop.abort();
      await run.catch(() => undefined);
    }
  });

  it("LocalCluster: kill and restart a node (same ports, cluster.json rewritten), stop is idempotent and leaves no process", async () => {
    const exits: number[] = [];
    const c = await Supervisor.start({ project, data, tuning, onExit: (id) => exits.push(id) });
    clusters.push(c);
    const before = c.nodes.map((n) => n.pid!);
    before.forEach((p) => pids.add(p));
    expect(c.nodes.every((n) => n.running)).toBe(true);
    const killed = await c.kill(2);
    expect(killed.signal).toBe("SIGKILL");
    expect(c.node(2).running).toBe(false);
    expect((await readClusterFile())!.map((e) => e.pid)).toEqual([before[0], null, before[2]]);
    const again = await c.restart(2);
    pids.add(again.pid!);
    expect(again.address).toBe(`127.0.0.1:${port + 1}`);
    expect(again.pid).not.toBe(before[1]);
    expect((await readClusterFile())!.map((e) => e.pid)).toEqual([before[0], again.pid, before[2]]);
    await expect(c.restart(2)).rejects.toThrow(/node 2 is running/);
    const st = await waitFor("a leader", async () => {
      const s = await c.status();
      return [...s.values()].some((x) => x.softState.raftState === "Leader") ? s : undefined;
    });
    expect(st.size).toBe(3);
    const all = c.nodes.map((n) => n.pid!);
    await Promise.all([c.stop(), c.stop()]);
    await c.stop();
    expect(exits).toEqual([]); // kill() and stop() are not unexpected exits
    for (const p of all) expect(alive(p)).toBe(false);
    expect(existsSync(c.clusterFile)).toBe(false);
    await expect(c.restart(1)).rejects.toThrow(/stopped/);
  });

  it("a port in use: names it, starts nothing, exit 1", async () => {
    const blocker = await listen(port + 1);
    expect(blocker).toBeDefined();
    try {
      const { o, io } = capture();
      const code = await clusterCommand([project, "--data", path.join(root, "data-port"), "--port", String(port)], io, { tty: false, handleSignals: false });
      expect(code).toBe(1);
      expect(o.err).toContain(`port ${port + 1} (gRPC of node 2) is in use on 127.0.0.1`);
      expect(existsSync(path.join(root, "data-port"))).toBe(false);
    } finally {
      await new Promise<void>((r) => blocker!.close(() => r()));
    }
  });

  it("a spec with errors: prints file:line:col diagnostics, starts nothing, exit 1", async () => {
    const bad = await copyProject("bad", false);
    const spec = path.join(bad, "raft.yaml");
    await writeFile(spec, (await readFile(spec, "utf8")).replace("kv: { key: string, value: string", "kv: { key: string, value: strng"));
    const { o, io } = capture();
    const code = await clusterCommand([bad, "--port", String(port)], io, { tty: false, handleSignals: false });
    expect(code).toBe(1);
    expect(o.err).toMatch(/raft\.yaml:\d+:\d+: .*strng/);
    expect(o.err).toContain("nothing was started");
    expect(existsSync(path.join(bad, "data"))).toBe(false);
    expect(existsSync(path.join(bad, "generated"))).toBe(false);
  });

  it("bad usage exits 2", async () => {
    const cases: [string[], RegExp][] = [
      [[], /expected one spec file or project directory/],
      [[project, "--bogus"], /Unknown option '--bogus'/],
      [[project, "--nodes", "many"], /--nodes: "many" is not a whole number/],
      [[project, "--nodes", "0"], /number of nodes must be an integer from 1 to 9/],
      [[path.join(root, "nope")], /no such file or directory/],
      [[root], /no raft.yaml in this directory/],
      [[project, "--data", data, "--nodes", "5"], /holds a cluster with --nodes 3 .*cannot change to 5/],
    ];
    for (const [args, message] of cases) {
      const { o, io } = capture();
      expect(await clusterCommand(args, io, { tty: false, handleSignals: false }), args.join(" ")).toBe(2);
      expect(o.err).toMatch(message);
    }
  });
});

describe("compileProject", () => {
  it("transpiles only what changed, removes outputs of deleted sources, reports syntax errors as file:line:col", async () => {
    const dir = await copyProject("compile", true);
    const first = await compileProject(dir);
    expect(first.compiled.sort()).toEqual(["generated/client.ts", "generated/descriptor.ts", "generated/handlers.ts", "generated/index.ts", "generated/server.ts", "generated/state.ts", "generated/types.ts", "src/handlers.ts"]);
    expect(first.serverEntry).toBe(path.join(dir, ".raftgen/build/generated/server.js"));
    expect(JSON.parse(await readFile(path.join(dir, ".raftgen/build/package.json"), "utf8")).type).toBe("module");
    expect(existsSync(path.join(dir, ".raftgen/build/node_modules/raftgen/package.json"))).toBe(true);
    expect((await compileProject(dir)).compiled).toEqual([]);

    const later = new Date(Date.now() + 5_000);
    await writeFile(path.join(dir, "src/extra.ts"), "export const x: number = 1;\n");
    await utimes(path.join(dir, "src/handlers.ts"), later, later);
    expect((await compileProject(dir)).compiled.sort()).toEqual(["src/extra.ts", "src/handlers.ts"]);
    expect(await readFile(path.join(dir, ".raftgen/build/src/extra.js"), "utf8")).toMatch(/^export const x = 1;/);

    await rm(path.join(dir, "src/extra.ts"));
    const r = await compileProject(dir);
    expect(r.removed).toEqual(["src/extra.js"]);
    expect(existsSync(path.join(dir, ".raftgen/build/src/extra.js"))).toBe(false);

    await writeFile(path.join(dir, "src/broken.ts"), "export const y = ;\n");
    const err = await compileProject(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CompileError);
    expect((err as CompileError).diagnostics).toMatch(/broken\.ts:1:18: Expression expected/);
  });
});
