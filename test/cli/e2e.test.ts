// End to end, as a user runs each example (issue 8, Proof 1): for examples/counter, examples/lock
// and examples/placement-center, in that order,
//   1. `raftgen cluster <example> --data <tmp> --port <base>` (clusterCommand, what `raftgen
//      cluster` runs, with an AbortSignal standing in for Ctrl-C) starts 3 node processes and
//      writes <data>/cluster.json;
//   2. the example's compiled generated client (<example>/.raftgen/build/generated/index.js, the
//      JavaScript the cluster command compiled) calls every command and query, results checked;
//   3. `raftgen call` runs one command and one query; their JSON is checked (64-bit as strings);
//   4. `raftgen status --json`: 3 rows, one leader, one term;
//   5. the leader (pid from cluster.json) gets SIGKILL while 4 writers keep writing: every write
//      is acknowledged, every acknowledged write reads back, and the cluster command reports the
//      exit (node id, SIGKILL) and rewrites cluster.json;
//   6. abort (Ctrl-C): exit 0, cluster.json removed, and process.kill(pid, 0) throws ESRCH for
//      every node pid seen;
//   7. `raftgen cluster <example> --data <same>` again, through main() this time, stopped by a
//      real SIGINT to this process (the command's own signal handler): the data written in
//      steps 2, 3 and 5 is all there, and every node process is gone afterwards.
// The nodes run with the default tuning (elections after 1-2 s), as a user's would. The steps of
// an example share its cluster and run in order. Data lives in one mkdtemp directory per
// example (removed in afterAll); the examples' own .raftgen/build is what `raftgen cluster`
// writes for a user too (git-ignored).
//
// Ports: a base P with P..P+2 (gRPC) and P+1000..P+1002 (HTTP) free, probed on 127.0.0.1 and
// picked at random below the kernel's ephemeral range (32768+), so that no port-0 server or
// outgoing connection of a test file running alongside takes one between the probe and the
// bind, or between a stop and the restart on the same ports. Each example gets its own base.

import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as CounterModule from "../../examples/counter/generated/index.js";
import type * as LockModule from "../../examples/lock/generated/index.js";
import type * as PlacementModule from "../../examples/placement-center/generated/index.js";
import { type CliIO, main } from "../../generator/cli.js";
import { clusterCommand } from "../../generator/cluster-command.js";
import { HTTP_PORT_OFFSET, findFreeBasePort } from "../../generator/cluster/supervisor.js";
import type { StatusRow } from "../../generator/status.js";
import { REPO_ROOT, waitFor } from "../cluster/harness.js";

const N = 3;
/** Writes during the leader kill: WRITERS loops share TOTAL writes; the kill comes after KILL_AFTER acks. */
const WRITERS = 4;
const TOTAL_WRITES = 80;
const KILL_AFTER = 20;
/** Generated clients ride through a failover within this deadline. */
const CLIENT_DEADLINE_MS = 20_000;

// ---------------------------------------------------------------------------------------
// Helpers.

/** Bases handed out by this file (so that no two examples share a port). */
const takenBases: number[] = [];

/** A base P in [20000, 26000) with P..P+2 and P+1000..P+1002 free on 127.0.0.1 right now. */
async function freeBase(): Promise<number> {
  const p = await findFreeBasePort({ nodes: N, from: 20_000, to: 26_000, skip: (q) => takenBases.some((b) => Math.abs(b - q) < N) });
  takenBases.push(p);
  return p;
}

/** Whether a process with this pid exists; false only when kill(pid, 0) says ESRCH. */
function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

function kill9(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // gone already
  }
}

interface Captured {
  out: string;
  err: string;
  io: CliIO;
}

function capture(): Captured {
  const c: Captured = {
    out: "",
    err: "",
    io: {
      stdout: (s) => void (c.out += s),
      stderr: (s) => void (c.err += s),
    },
  };
  return c;
}

/** Run a short CLI command through main(); its exit code and output. */
async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const c = capture();
  const code = await main(argv, c.io);
  return { code, out: c.out, err: c.err };
}

interface Entry {
  id: number;
  address: string;
  httpAddress: string;
  pid: number | null;
  dataDir: string;
}

async function readClusterFile(data: string): Promise<Entry[] | undefined> {
  try {
    return JSON.parse(await readFile(path.join(data, "cluster.json"), "utf8")) as Entry[];
  } catch {
    return undefined;
  }
}

/** A running `raftgen cluster`. */
interface Running {
  captured: Captured;
  done: Promise<number>;
  code: number | undefined;
  /** Stops it like Ctrl-C (absent for the main() run, which is stopped by a real SIGINT). */
  abort?: AbortController;
}

/** Wait for cluster.json with every node's pid (failing early when the command exits instead). */
async function clusterUp(run: Running, data: string): Promise<Entry[]> {
  return waitFor(
    "cluster.json listing every node with its pid",
    async () => {
      if (run.code !== undefined) throw new Error(`raftgen cluster exited with ${run.code} first:\n${run.captured.err}`);
      const entries = await readClusterFile(data);
      return entries && entries.length === N && entries.every((e) => e.pid !== null) ? entries : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );
}

function track(run: Omit<Running, "code">): Running {
  const r: Running = { ...run, code: undefined };
  void run.done.then(
    (code) => (r.code = code),
    () => (r.code = -1),
  );
  return r;
}

const commandFailed = (message: RegExp) => expect.objectContaining({ code: "CommandFailed", message: expect.stringMatching(message) });

// ---------------------------------------------------------------------------------------
// What each example does in the steps.

interface ExampleCase<C extends { close(): void }> {
  name: string;
  /** The client class from the compiled module. */
  client(mod: unknown, endpoints: string[]): C;
  /** Step 2: every command and query, results checked. */
  everyMethod(c: C): Promise<void>;
  /** Step 3: `raftgen call` of one command and one query, and the JSON each must print. */
  command: { name: string; json: string; check(printed: unknown): void };
  query: { name: string; json: string; check(printed: unknown): void };
  /** Step 5: write number i; resolves with what the write acknowledged. */
  write(c: C, i: number): Promise<unknown>;
  /** Step 5 and 7: write i (acknowledged `ack`) is there. */
  readBack(c: C, i: number, ack: unknown): Promise<void>;
  /** Step 5: checks over all acknowledgements together (exactly once). */
  checkAcks?(acks: unknown[]): void;
  /** Step 7: what steps 2 and 3 left is there after the restart. */
  persisted(c: C): Promise<void>;
}

type CounterClient = InstanceType<(typeof CounterModule)["CounterClient"]>;
type LockClient = InstanceType<(typeof LockModule)["LockServiceClient"]>;
type PlacementClient = InstanceType<(typeof PlacementModule)["PlacementCenterClient"]>;
type Lock = LockModule.Lock;

const INT64_BIG = 2n ** 62n;
const U64_MAX = 2n ** 64n - 1n;
/** Beyond 2^53: printed exactly only when 64-bit integers travel as strings. */
const BEYOND_2_53 = "9007199254740993";
/** The broker id `raftgen call register_node` uses (U64_MAX is taken by step 2). */
const CLI_NODE_ID = U64_MAX - 1n;

const counter: ExampleCase<CounterClient> = {
  name: "counter",
  client: (mod, endpoints) => new (mod as typeof CounterModule).CounterClient({ endpoints, deadlineMs: CLIENT_DEADLINE_MS }),
  async everyMethod(c) {
    expect(await c.add({ name: "apples", delta: 5n })).toEqual({ value: 5n });
    expect(await c.add({ name: "apples", delta: -7n })).toEqual({ value: -2n });
    expect(await c.add({ name: "big", delta: INT64_BIG })).toEqual({ value: INT64_BIG });
    // The handler refuses an int64 overflow: CommandFailed with its message, nothing changed.
    await expect(c.add({ name: "big", delta: INT64_BIG })).rejects.toEqual(commandFailed(/counter big would overflow int64/));
    expect(await c.get({ name: "apples" })).toEqual({ value: -2n });
    expect(await c.get({ name: "big" })).toEqual({ value: INT64_BIG });
    expect(await c.get({ name: "never-added" })).toEqual({ value: 0n });
    expect(await c.list({})).toEqual({ counters: { apples: -2n, big: INT64_BIG } });
    expect(await c.reset({ name: "apples" })).toBeUndefined();
    expect(await c.get({ name: "apples" })).toEqual({ value: 0n });
    expect(await c.list({})).toEqual({ counters: { big: INT64_BIG } });
  },
  command: {
    name: "add",
    // A JSON number beyond 2^53 in the input is read exactly; the output prints it as a string.
    json: `{"name":"cli","delta":${BEYOND_2_53}}`,
    check: (printed) => expect(printed).toEqual({ value: BEYOND_2_53 }),
  },
  query: { name: "get", json: `{"name":"cli"}`, check: (printed) => expect(printed).toEqual({ value: BEYOND_2_53 }) },
  // A duplicated or lost apply would show in the value: each counter gets one add of i+1.
  write: async (c, i) => (await c.add({ name: `w${i}`, delta: BigInt(i + 1) })).value,
  async readBack(c, i, ack) {
    expect(ack).toBe(BigInt(i + 1));
    expect(await c.get({ name: `w${i}` })).toEqual({ value: BigInt(i + 1) });
  },
  async persisted(c) {
    expect(await c.get({ name: "big" })).toEqual({ value: INT64_BIG });
    expect(await c.get({ name: "apples" })).toEqual({ value: 0n });
    expect(await c.get({ name: "cli" })).toEqual({ value: BigInt(BEYOND_2_53) });
    const { counters } = await c.list({});
    expect(Object.keys(counters)).toHaveLength(2 + TOTAL_WRITES);
  },
};

/** Bounds of a lease granted by a command sent between `before` and `after` (entry time + ttl). */
function expectLease(lock: Lock, ttlMs: number, before: number, after: number): void {
  expect(lock.expiresAt).toBeGreaterThanOrEqual(BigInt(before - 1_000 + ttlMs));
  expect(lock.expiresAt).toBeLessThanOrEqual(BigInt(after + 1_000 + ttlMs));
}

/** What the lock example's steps 2 and 3 left, for step 7. */
let lockWindow: Lock | undefined;
let lockCli: string | undefined;

const lock: ExampleCase<LockClient> = {
  name: "lock",
  client: (mod, endpoints) => new (mod as typeof LockModule).LockServiceClient({ endpoints, deadlineMs: CLIENT_DEADLINE_MS }),
  async everyMethod(c) {
    let t0 = Date.now();
    const a = await c.acquire({ name: "door", owner: "alice", ttlMs: 60_000 });
    expect(a).toMatchObject({ outcome: "ACQUIRED", lock: { name: "door", owner: "alice", token: 1n } });
    expectLease(a.lock, 60_000, t0, Date.now());
    // Someone else: refused, told who holds it.
    expect(await c.acquire({ name: "door", owner: "bob", ttlMs: 1_000 })).toEqual({ outcome: "HELD_BY_OTHER", lock: a.lock });
    // The owner again: renewed, same token.
    t0 = Date.now();
    const again = await c.acquire({ name: "door", owner: "alice", ttlMs: 120_000 });
    expect(again).toMatchObject({ outcome: "ACQUIRED", lock: { owner: "alice", token: 1n } });
    expectLease(again.lock, 120_000, t0, Date.now());
    t0 = Date.now();
    const renewed = await c.renew({ name: "door", owner: "alice", token: 1n, ttlMs: 300_000 });
    expect(renewed.lock).toMatchObject({ name: "door", owner: "alice", token: 1n });
    expectLease(renewed.lock, 300_000, t0, Date.now());
    expect(await c.holder({ name: "door" })).toEqual({ lock: renewed.lock });
    const w = await c.acquire({ name: "window", owner: "bob", ttlMs: 600_000 });
    expect(w).toMatchObject({ outcome: "ACQUIRED", lock: { name: "window", owner: "bob", token: 2n } });
    lockWindow = w.lock;
    const byName = (l: { locks: Lock[] }) => [...l.locks].sort((x, y) => x.name.localeCompare(y.name));
    expect(byName(await c.list({}))).toEqual([renewed.lock, w.lock]);
    expect(await c.release({ name: "door", owner: "bob", token: 1n })).toEqual({ released: false });
    expect(await c.release({ name: "door", owner: "alice", token: 2n })).toEqual({ released: false });
    expect(await c.release({ name: "door", owner: "alice", token: 1n })).toEqual({ released: true });
    expect((await c.holder({ name: "door" })).lock).toBeUndefined();
    await expect(c.renew({ name: "door", owner: "alice", token: 1n, ttlMs: 1_000 })).rejects.toEqual(commandFailed(/lock door is not held by alice with token 1/));
    await expect(c.acquire({ name: "door", owner: "", ttlMs: 1_000 })).rejects.toEqual(commandFailed(/acquire needs an owner/));
    expect(byName(await c.list({}))).toEqual([w.lock]);
  },
  command: {
    name: "acquire",
    json: `{"name":"cli-lock","owner":"carol","ttl_ms":600000}`,
    check(printed) {
      // Tokens 1 and 2 went to door and window: this is the third acquisition.
      expect(printed).toEqual({ outcome: "ACQUIRED", lock: { name: "cli-lock", owner: "carol", token: "3", expiresAt: expect.stringMatching(/^[1-9][0-9]{12,}$/) } });
      lockCli = (printed as { lock: { expiresAt: string } }).lock.expiresAt;
    },
  },
  query: {
    name: "holder",
    json: `{"name":"cli-lock"}`,
    check: (printed) => expect(printed).toEqual({ lock: { name: "cli-lock", owner: "carol", token: "3", expiresAt: lockCli } }),
  },
  write: async (c, i) => (await c.acquire({ name: `w${i}`, owner: "writer", ttlMs: 3_600_000 })).lock.token,
  async readBack(c, i, ack) {
    expect(await c.holder({ name: `w${i}` })).toMatchObject({ lock: { name: `w${i}`, owner: "writer", token: ack } });
  },
  checkAcks(acks) {
    // One fencing token per acquisition: a duplicated apply would skip or repeat one.
    const tokens = (acks as bigint[]).map(Number).sort((a, b) => a - b);
    expect(tokens).toEqual(Array.from({ length: TOTAL_WRITES }, (_, i) => 4 + i));
  },
  async persisted(c) {
    expect(await c.holder({ name: "window" })).toEqual({ lock: lockWindow });
    expect((await c.holder({ name: "door" })).lock).toBeUndefined();
    expect(await c.holder({ name: "cli-lock" })).toMatchObject({ lock: { owner: "carol", token: 3n, expiresAt: BigInt(lockCli!) } });
    expect((await c.list({})).locks).toHaveLength(2 + TOTAL_WRITES);
  },
};

/** The broker `raftgen call register_node` registered (as printed), for the query and step 7. */
let placementCli: unknown;

const placement: ExampleCase<PlacementClient> = {
  name: "placement-center",
  client: (mod, endpoints) => new (mod as typeof PlacementModule).PlacementCenterClient({ endpoints, deadlineMs: CLIENT_DEADLINE_MS }),
  async everyMethod(c) {
    expect(await c.set({ key: "greeting", value: "hello" })).toBeUndefined();
    expect(await c.get({ key: "greeting" })).toEqual({ value: "hello" });
    expect(await c.exists({ key: "greeting" })).toEqual({ exists: true });
    expect(await c.exists({ key: "nope" })).toEqual({ exists: false });
    expect((await c.get({ key: "nope" })).value).toBeUndefined();
    expect(await c.delete({ key: "greeting" })).toEqual({ deleted: true });
    expect(await c.delete({ key: "greeting" })).toEqual({ deleted: false });
    expect((await c.get({ key: "greeting" })).value).toBeUndefined();
    await c.set({ key: "greeting", value: "hello again" });

    const big = await c.registerNode({ clusterName: "mq", nodeId: U64_MAX, nodeIp: "10.0.0.1", extend: '{"rack":"a"}' });
    expect(big.node).toMatchObject({ clusterName: "mq", nodeId: U64_MAX, nodeIp: "10.0.0.1", extend: '{"rack":"a"}' });
    expect(big.node.lastHeartbeat).toBe(big.node.createTime);
    const seven = await c.registerNode({ clusterName: "mq", nodeId: 7n, nodeIp: "10.0.0.7" });
    expect(seven.node).toMatchObject({ clusterName: "mq", nodeId: 7n, nodeIp: "10.0.0.7" });
    expect(seven.node.extend).toBeUndefined();
    expect(await c.heartbeat({ clusterName: "mq", nodeId: 7n })).toBeUndefined();
    await expect(c.heartbeat({ clusterName: "mq", nodeId: 8n })).rejects.toEqual(commandFailed(/node 8 is not registered in cluster mq/));
    await expect(c.registerNode({ clusterName: "other", nodeId: U64_MAX, nodeIp: "10.9.9.9" })).rejects.toEqual(
      commandFailed(new RegExp(`node ${U64_MAX} is registered in cluster mq, not other`)),
    );
    const listed = await c.listNodes({ clusterName: "mq" });
    expect(listed.nodes.map((n) => n.nodeId).sort((a, b) => (a < b ? -1 : 1))).toEqual([7n, U64_MAX]);
    const seven2 = listed.nodes.find((n) => n.nodeId === 7n)!;
    expect(seven2.createTime).toBe(seven.node.createTime);
    expect(seven2.lastHeartbeat).toBeGreaterThanOrEqual(seven.node.createTime);
    expect(listed.nodes.find((n) => n.nodeId === U64_MAX)).toEqual(big.node);
    expect(await c.unregisterNode({ clusterName: "other", nodeId: 7n })).toEqual({ removed: false });
    expect(await c.unregisterNode({ clusterName: "mq", nodeId: 7n })).toEqual({ removed: true });
    expect(await c.unregisterNode({ clusterName: "mq", nodeId: 7n })).toEqual({ removed: false });
    expect(await c.listNodes({ clusterName: "mq" })).toEqual({ nodes: [big.node] });
    expect(await c.listNodes({ clusterName: "empty" })).toEqual({ nodes: [] });
  },
  command: {
    name: "register_node",
    json: `{"cluster_name":"cli","node_id":"${CLI_NODE_ID}","node_ip":"10.1.2.3"}`,
    check(printed) {
      expect(printed).toEqual({
        node: { clusterName: "cli", nodeId: String(CLI_NODE_ID), nodeIp: "10.1.2.3", createTime: expect.stringMatching(/^[1-9][0-9]{12,}$/), lastHeartbeat: expect.stringMatching(/^[0-9]+$/) },
      });
      placementCli = (printed as { node: unknown }).node;
    },
  },
  query: { name: "list_nodes", json: `{"cluster_name":"cli"}`, check: (printed) => expect(printed).toEqual({ nodes: [placementCli] }) },
  write: (c, i) => c.set({ key: `w${i}`, value: `v${i}` }),
  async readBack(c, i) {
    expect(await c.get({ key: `w${i}` })).toEqual({ value: `v${i}` });
  },
  async persisted(c) {
    expect(await c.get({ key: "greeting" })).toEqual({ value: "hello again" });
    expect((await c.listNodes({ clusterName: "mq" })).nodes.map((n) => [n.nodeId, n.extend])).toEqual([[U64_MAX, '{"rack":"a"}']]);
    const cli = (await c.listNodes({ clusterName: "cli" })).nodes;
    expect(cli.map((n) => [n.nodeId, n.nodeIp, String(n.createTime)])).toEqual([[CLI_NODE_ID, "10.1.2.3", (placementCli as { createTime: string }).createTime]]);
  },
};

// ---------------------------------------------------------------------------------------
// The steps.

function endToEnd<C extends { close(): void }>(ex: ExampleCase<C>): void {
  describe(`examples/${ex.name}: raftgen cluster, the generated client, call, status, kill -9, Ctrl-C, restart`, () => {
    const dir = path.join(REPO_ROOT, "examples", ex.name);
    let root: string;
    let data: string;
    let port: number;
    /** Every node pid seen in this block. */
    const pids = new Set<number>();
    const runs: Running[] = [];
    let run: Running;
    let entries: Entry[];
    let endpoints: string[];
    let client: C | undefined;
    let leaderId = 0;
    let acks: unknown[] = [];

    const newClient = async (): Promise<C> => {
      const mod: unknown = await import(pathToFileURL(path.join(dir, ".raftgen/build/generated/index.js")).href);
      return ex.client(mod, endpoints);
    };

    beforeAll(async () => {
      root = await mkdtemp(path.join(tmpdir(), `raftgen-e2e-${ex.name}-`));
      data = path.join(root, "data");
      port = await freeBase();
    });

    afterAll(async () => {
      client?.close();
      for (const r of runs) r.abort?.abort();
      // The main() run has no abort: SIGKILL its nodes; the command then sees every node gone and returns.
      for (const e of (await readClusterFile(data)) ?? []) if (e.pid !== null) pids.add(e.pid);
      if (runs.some((r) => r.code === undefined)) for (const pid of pids) kill9(pid);
      await Promise.race([Promise.all(runs.map((r) => r.done.catch(() => undefined))), new Promise((r) => setTimeout(r, 15_000))]);
      for (const pid of pids) kill9(pid);
      await rm(root, { recursive: true, force: true, maxRetries: 3 });
    });

    it("raftgen cluster starts 3 node processes and lists them in <data>/cluster.json", async () => {
      const captured = capture();
      const abort = new AbortController();
      const done = clusterCommand([dir, "--data", data, "--port", String(port)], captured.io, { signal: abort.signal, tty: false, handleSignals: false });
      run = track({ captured, done, abort });
      runs.push(run);
      entries = await clusterUp(run, data);
      for (const e of entries) pids.add(e.pid!);
      expect(entries.map((e) => e.id)).toEqual([1, 2, 3]);
      entries.forEach((e, i) => {
        expect(e).toMatchObject({ address: `127.0.0.1:${port + i}`, httpAddress: `127.0.0.1:${port + HTTP_PORT_OFFSET + i}`, dataDir: path.join(data, String(i + 1)) });
        expect(exists(e.pid!)).toBe(true);
      });
      endpoints = entries.map((e) => e.address);
      await waitFor("the address lines", () => captured.out.includes(path.join(data, "cluster.json")));
      for (const e of entries) expect(captured.out).toContain(`gRPC ${e.address}  HTTP ${e.httpAddress}  pid ${e.pid}`);
      expect(captured.out).toContain(`endpoints:    ${endpoints.join(",")}`);
      expect(existsSync(path.join(dir, ".raftgen/build/generated/index.js"))).toBe(true);
    });

    it("the compiled generated client calls every command and query", async () => {
      client = await newClient();
      await ex.everyMethod(client);
    });

    it("raftgen call: a command and a query, JSON out with 64-bit integers as strings", async () => {
      const spec = path.join(dir, "raft.yaml");
      const cmd = await cli(["call", "--spec", spec, "--endpoints", endpoints.join(","), ex.command.name, ex.command.json]);
      expect(cmd.err).toBe("");
      expect(cmd.code).toBe(0);
      ex.command.check(JSON.parse(cmd.out));
      const q = await cli(["call", "--spec", spec, "--endpoints", endpoints.join(","), ex.query.name, ex.query.json]);
      expect(q.err).toBe("");
      expect(q.code).toBe(0);
      ex.query.check(JSON.parse(q.out));
      // The query through each node alone (two of them followers).
      for (const e of endpoints) {
        const one = await cli(["call", "--spec", spec, "--endpoints", e, "--consistency", "linearizable", ex.query.name, ex.query.json]);
        expect({ e, code: one.code, err: one.err }).toEqual({ e, code: 0, err: "" });
        ex.query.check(JSON.parse(one.out));
      }
    });

    it("raftgen status --json: 3 rows, one leader, every node in the same term and naming it", async () => {
      let last = "";
      const rows = await waitFor(
        "one leader known to every node",
        async () => {
          const r = await cli(["status", "--endpoints", endpoints.join(","), "--json"]);
          last = r.out + r.err;
          if (r.code !== 0) return undefined;
          const parsed = JSON.parse(r.out) as StatusRow[];
          const leaders = parsed.filter((x) => x.role === "leader");
          return leaders.length === 1 && parsed.every((x) => x.leader === leaders[0]!.node && x.health === "ok") ? parsed : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 200 },
      ).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}; last output:\n${last}`);
      });
      expect(rows).toHaveLength(3);
      expect(rows.map((r) => [r.node, r.address])).toEqual(entries.map((e) => [e.id, e.address]));
      const leaders = rows.filter((r) => r.role === "leader");
      expect(leaders).toHaveLength(1);
      leaderId = leaders[0]!.node!;
      expect(rows.filter((r) => r.role === "follower")).toHaveLength(2);
      expect(new Set(rows.map((r) => r.term)).size).toBe(1);
      for (const r of rows) {
        expect(r.leader).toBe(leaderId);
        expect(r.commit).toBeGreaterThan(0);
        expect(r.applied).toBeGreaterThan(0);
        expect(r.lastIndex).toBeGreaterThanOrEqual(r.applied!);
        expect(r.lag).toBeGreaterThanOrEqual(0);
        expect(r.health).toBe("ok");
      }
    });

    it("kill -9 of the leader during a stream of writes: every write acknowledged and read back; the exit is reported", async () => {
      expect(leaderId).toBeGreaterThan(0);
      const before = await readClusterFile(data);
      const victim = before!.find((e) => e.id === leaderId)!;
      expect(victim.pid).not.toBeNull();
      const c = client!;
      acks = new Array<unknown>(TOTAL_WRITES);
      const failed: string[] = [];
      let next = 0;
      let acked = 0;
      let ackedAtKill: number | undefined;
      /** Writes started before the kill (acknowledged or in flight). */
      let startedAtKill = 0;
      const writer = async () => {
        while (next < TOTAL_WRITES) {
          const i = next++;
          try {
            acks[i] = await ex.write(c, i);
            acked++;
          } catch (err) {
            failed.push(`write ${i}: ${(err as Error).message}`);
          }
          if (ackedAtKill === undefined && acked >= KILL_AFTER) {
            ackedAtKill = acked;
            startedAtKill = next;
            process.kill(victim.pid!, "SIGKILL");
          }
        }
      };
      const t0 = Date.now();
      await Promise.all(Array.from({ length: WRITERS }, writer));
      const took = Date.now() - t0;
      // The generated client retries through the failover (exactly-once sessions): nothing fails.
      expect(failed).toEqual([]);
      expect(ackedAtKill).toBeDefined();
      expect(acked).toBe(TOTAL_WRITES);
      expect(TOTAL_WRITES - startedAtKill).toBeGreaterThanOrEqual(TOTAL_WRITES - KILL_AFTER - WRITERS); // most writes began after the kill
      expect(exists(victim.pid!)).toBe(false);
      await Promise.all(acks.map((ack, i) => ex.readBack(c, i, ack)));
      ex.checkAcks?.(acks);

      // `raftgen cluster` reports the exit with the node id and the signal, and does not restart it.
      await waitFor("the exit report", () => run.captured.err.includes(`node ${leaderId} killed by signal SIGKILL; it is not restarted`), { timeoutMs: 10_000 });
      const after = await waitFor("cluster.json without the killed pid", async () => {
        const e = await readClusterFile(data);
        return e?.find((x) => x.id === leaderId)?.pid === null ? e : undefined;
      });
      expect(after.filter((e) => e.id !== leaderId).map((e) => e.pid)).toEqual(before!.filter((e) => e.id !== leaderId).map((e) => e.pid));
      // A new leader among the two others.
      const st = await cli(["status", "--endpoints", endpoints.join(","), "--json"]);
      expect(st.code).toBe(0);
      const rows = JSON.parse(st.out) as StatusRow[];
      expect(rows.find((r) => r.address === victim.address)!.health).toMatch(/^unreachable/);
      expect(rows.filter((r) => r.role === "leader").map((r) => r.node)).not.toContain(leaderId);
      expect(took).toBeLessThan(CLIENT_DEADLINE_MS);
    });

    it("Ctrl-C (abort): exit 0, cluster.json removed, no node process left", async () => {
      const last = await readClusterFile(data);
      for (const e of last ?? []) if (e.pid !== null) pids.add(e.pid);
      expect(pids.size).toBe(N);
      client?.close();
      client = undefined;
      run.abort!.abort();
      expect(await run.done).toBe(0);
      expect(run.captured.err).toContain("stop requested: stopping every node");
      expect(run.captured.out).toMatch(new RegExp(`stopped \\(.*node ${leaderId} signal SIGKILL`));
      expect(existsSync(path.join(data, "cluster.json"))).toBe(false);
      for (const pid of pids) {
        let code: string | undefined;
        try {
          process.kill(pid, 0);
        } catch (err) {
          code = (err as NodeJS.ErrnoException).code;
        }
        expect({ pid, code }).toEqual({ pid, code: "ESRCH" });
      }
    });

    it("raftgen cluster again on the same --data (main(), stopped by SIGINT) finds everything written before", async () => {
      const captured = capture();
      // No --port: the data directory's cluster-config.json holds it.
      const done = main(["cluster", dir, "--data", data], captured.io);
      const again = track({ captured, done });
      runs.push(again);
      const now = await clusterUp(again, data);
      for (const e of now) pids.add(e.pid!);
      expect(now.map((e) => e.address)).toEqual(endpoints);
      expect(captured.out).not.toContain("built ("); // generated/ was up to date
      client = await newClient();
      await ex.persisted(client);
      const c = client;
      await Promise.all(acks.map((ack, i) => ex.readBack(c, i, ack)));
      client.close();
      client = undefined;

      // Ctrl-C: the command's own SIGINT handler (registered while it runs) stops every node.
      // This file runs in its own worker process (vitest.config.ts: pool "forks"); without a
      // listener the signal would end that process, so make sure the command's is there.
      expect(process.listenerCount("SIGINT")).toBeGreaterThan(0);
      process.kill(process.pid, "SIGINT");
      expect(await done).toBe(0);
      expect(captured.err).toContain("SIGINT: stopping every node");
      expect(captured.out).toMatch(/stopped \(node 1 exit 0, node 2 exit 0, node 3 exit 0\)/);
      for (const e of now) expect({ pid: e.pid, exists: exists(e.pid!) }).toEqual({ pid: e.pid, exists: false });
      expect(existsSync(path.join(data, "cluster.json"))).toBe(false);
    });
  });
}

endToEnd(counter);
endToEnd(lock);
endToEnd(placement);
