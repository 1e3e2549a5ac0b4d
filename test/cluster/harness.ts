// A multi-process cluster for tests: every node is a real `runtime/server/main.ts` process on
// 127.0.0.1, with ports reserved at run time and its own mkdtemp data directory.
//
//   const c = await Cluster.start({ size: 3, node: { snapshotEntries: 200 } });
//   const leader = await c.waitForLeader();
//   await c.kill(leader);          // SIGKILL, like kill -9
//   await c.restart(leader);       // same data directory, same ports
//   await c.stopAll();             // SIGTERM, then SIGKILL after a timeout; removes the dirs
//
// Nothing is left behind when a test fails: callers stop the cluster in afterEach/afterAll,
// every cluster is also registered for a synchronous SIGKILL in a process 'exit' hook, and each
// node preloads orphan-guard.ts, which stops it when the test process's pipe to it closes.
// Every wait is bounded (waitFor with a timeout); every request has a deadline.
//
// Ports: reservePorts() binds port 0 on 127.0.0.1, notes the port the OS chose and closes the
// socket; another process may take it in between, so a node that fails with EADDRINUSE is
// started again (on fresh ports the first time; on the same ports after a restart, where the
// old process held them).
//
// Debugging aids (environment): RAFTGEN_CLUSTER_LOG=debug|info sets every node's log level,
// RAFTGEN_CLUSTER_LOG_DIR=<dir> keeps each node's stderr, timestamped, in <dir>/node-<id>.log,
// RAFTGEN_NODE_ARGS="--cpu-prof ..." adds node flags, RAFTGEN_LAG_MS=<n> makes every node log
// event-loop stalls longer than n ms (orphan-guard.ts).

import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { RaftClient, type ClientOptions } from "../../runtime/client/index.js";
import { type NodeErrorCode, isNodeError } from "../../runtime/node/errors.js";
import type { NodeServerOptions } from "../../runtime/server/server.js";
import { json, parse } from "../node/kv-state-machine.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, "../..");
const MAIN = path.join(REPO_ROOT, "runtime/server/main.ts");
const GUARD = path.join(HERE, "orphan-guard.ts");
const KV_MODULE = path.join(REPO_ROOT, "test/node/kv-state-machine.ts");

/** Node tuning passed in the config's `node` section. */
export type NodeTuning = NonNullable<NodeServerOptions["node"]>;

/**
 * Fast ticks for tests: elections after 0.5-1 s, heartbeats every 100 ms. Appends are capped at
 * 128 KiB: with the 1 MiB default, a leader catching up a restarted follower encodes a full
 * 1 MiB MsgApp on every heartbeat response while the follower is probed (etcd's behaviour),
 * which stalled the leader's event loop for 400-600 ms on a loaded 2-core machine — longer than
 * these election timeouts — and caused needless elections.
 */
export const TEST_TUNING: NodeTuning = { tickMs: 50, electionTicks: 10, heartbeatTicks: 2, maxSizePerMsg: 128 * 1024, proposalTimeoutMs: 4_000, readTimeoutMs: 4_000 };

const READY_TIMEOUT_MS = 45_000;
const STOP_TIMEOUT_MS = 5_000;
const HTTP_TIMEOUT_MS = 3_000;
const STDERR_KEEP_LINES = 400;

/** The config file of one node process (see runtime/server/main.ts). */
export interface NodeConfigFile {
  id: number;
  clusterId: string;
  dataDir: string;
  host: string;
  grpcPort: number;
  httpPort: number;
  peers: Record<string, string>;
  join?: boolean;
  stateMachine: { module: string; export?: string };
  node?: NodeTuning;
  logLevel?: "debug" | "info" | "warn" | "error";
}

/** The `ready` line a node prints on stdout once it serves. */
export interface ReadyLine {
  event: "ready";
  id: number;
  grpc: string;
  http: string;
  pid: number;
}

/** /status of a node (runtime/server/http.ts): the node's Status plus leader and transport. */
export interface HttpStatus {
  id: number;
  hardState: { term: number; vote: number; commit: number };
  softState: { leaderId: number; raftState: string };
  applied: number;
  firstIndex: number;
  lastIndex: number;
  voters: number[];
  learners: number[];
  progress: { id: number; match: number; next: number; state: string; isLearner: boolean; recentActive: boolean }[];
  members: { id: number; address: string }[];
  leader: { id: number; address: string };
  clusterId: string;
  fatal?: string;
}

/** How a node process ended. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class NodeProcess {
  child: ChildProcess | undefined;
  ready: ReadyLine | undefined;
  exit: Promise<ExitInfo> | undefined;
  exited: ExitInfo | undefined;
  /** The last lines the process wrote to stderr (all its runs). */
  readonly stderr: string[] = [];
  /** Completed runs (starts that printed the ready line). */
  starts = 0;

  constructor(
    readonly config: NodeConfigFile,
    readonly configPath: string,
  ) {}

  get id(): number {
    return this.config.id;
  }
  get grpcAddress(): string {
    return `${this.config.host}:${this.config.grpcPort}`;
  }
  get httpAddress(): string {
    return `${this.config.host}:${this.config.httpPort}`;
  }
  get running(): boolean {
    return this.child !== undefined && this.exited === undefined;
  }
  get pid(): number | undefined {
    return this.child?.pid;
  }

  log(): string {
    return this.stderr.join("\n");
  }
}

/** A failed start: the process exited (or hung) before printing its ready line. */
export class NodeStartError extends Error {
  override readonly name = "NodeStartError";
  constructor(
    message: string,
    readonly exit: ExitInfo | undefined,
    readonly stderr: string,
  ) {
    super(message);
  }
  get addressInUse(): boolean {
    return /EADDRINUSE|address already in use|No address added/i.test(this.stderr);
  }
}

/** Ports on 127.0.0.1 free at the time of the call (bound to 0, noted, released). */
export async function reservePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<import("node:net").Server>((resolve, reject) => {
          const s = createServer();
          s.once("error", reject);
          s.listen(0, "127.0.0.1", () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as import("node:net").AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/** Poll `f` until it returns a truthy value; throws after `timeoutMs` naming `what`. */
export async function waitFor<T>(what: string, f: () => Promise<T | undefined | false | null> | T | undefined | false | null, o: WaitOptions = {}): Promise<T> {
  const timeoutMs = o.timeoutMs ?? 15_000;
  const intervalMs = o.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(intervalMs);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** GET a node's HTTP endpoint with a deadline. */
export async function httpGet(address: string, urlPath: string, timeoutMs = HTTP_TIMEOUT_MS): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://${address}${urlPath}`, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, body: await res.text() };
}

/** The value of an unlabelled Prometheus sample (`name value`), or undefined. */
export function metricValue(text: string, name: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const [n, v] = line.trim().split(/\s+/);
    if (n === name && v !== undefined) return Number(v);
  }
  return undefined;
}

const liveClusters = new Set<Cluster>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const c of liveClusters) c.killAllSync();
  });
}

export interface ClusterOptions {
  /** Founding members, ids 1..size. */
  size: number;
  clusterId?: string;
  /** Tuning for every node (merged over TEST_TUNING). */
  node?: NodeTuning;
  logLevel?: NodeConfigFile["logLevel"];
  /** Also append every node's stderr to `<logDir>/node-<id>.log` (kept after stopAll). */
  logDir?: string;
}

export class Cluster {
  readonly nodes = new Map<number, NodeProcess>();
  private readonly clients: RaftClient[] = [];
  private stopped = false;

  private constructor(
    readonly root: string,
    readonly clusterId: string,
    readonly tuning: NodeTuning,
    readonly logLevel: NodeConfigFile["logLevel"],
    readonly logDir: string | undefined,
  ) {}

  /** Start `size` founding members and wait for all their ready lines. */
  static async start(o: ClusterOptions): Promise<Cluster> {
    installExitHook();
    const root = await mkdtemp(path.join(tmpdir(), "raftgen-cluster-"));
    // Debugging: RAFTGEN_CLUSTER_LOG=debug|info and RAFTGEN_CLUSTER_LOG_DIR=<dir> apply to every cluster.
    const env = process.env;
    const logLevel = o.logLevel ?? (env.RAFTGEN_CLUSTER_LOG as NodeConfigFile["logLevel"] | undefined) ?? "warn";
    const logDir = o.logDir ?? env.RAFTGEN_CLUSTER_LOG_DIR;
    const c = new Cluster(root, o.clusterId ?? `test-${path.basename(root)}`, { ...TEST_TUNING, ...o.node }, logLevel, logDir);
    liveClusters.add(c);
    try {
      for (let attempt = 1; ; attempt++) {
        const ids = Array.from({ length: o.size }, (_, i) => i + 1);
        const ports = await reservePorts(2 * o.size);
        const peers: Record<string, string> = {};
        ids.forEach((id, i) => (peers[id] = `127.0.0.1:${ports[2 * i]}`));
        for (const id of ids) {
          const dataDir = await mkdtemp(path.join(root, `node-${id}-`));
          await c.define({ id, dataDir, grpcPort: ports[2 * (id - 1)]!, httpPort: ports[2 * (id - 1) + 1]!, peers });
        }
        const results = await Promise.allSettled(ids.map((id) => c.launch(c.nodes.get(id)!)));
        const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
        if (!failed) return c;
        const inUse = failed.reason instanceof NodeStartError && failed.reason.addressInUse;
        await Promise.all(ids.map((id) => c.stop(id)));
        if (!inUse || attempt >= 3) throw failed.reason;
        // A port was taken between reservation and bind: start over on new ports and dirs.
        for (const n of c.nodes.values()) await rm(n.config.dataDir, { recursive: true, force: true });
        c.nodes.clear();
      }
    } catch (err) {
      await c.stopAll();
      throw err;
    }
  }

  private async define(p: { id: number; dataDir: string; grpcPort: number; httpPort: number; peers: Record<string, string>; join?: boolean }): Promise<NodeProcess> {
    const config: NodeConfigFile = {
      id: p.id,
      clusterId: this.clusterId,
      dataDir: p.dataDir,
      host: "127.0.0.1",
      grpcPort: p.grpcPort,
      httpPort: p.httpPort,
      peers: p.peers,
      ...(p.join ? { join: true } : {}),
      stateMachine: { module: KV_MODULE },
      node: this.tuning,
      logLevel: this.logLevel,
    };
    const configPath = path.join(this.root, `node-${p.id}.json`);
    await writeFile(configPath, JSON.stringify(config, null, 2));
    const n = new NodeProcess(config, configPath);
    this.nodes.set(p.id, n);
    return n;
  }

  /** Spawn the node's process and wait for its ready line (or its early exit). */
  private launch(n: NodeProcess, configPath = n.configPath): Promise<ReadyLine> {
    if (this.stopped) return Promise.reject(new Error("cluster is stopped"));
    // RAFTGEN_NODE_ARGS: extra node flags for every node process (debugging: --cpu-prof ...).
    const extra = (process.env.RAFTGEN_NODE_ARGS ?? "").split(" ").filter(Boolean);
    const child = spawn(process.execPath, [...extra, "--import", "tsx", "--import", GUARD, MAIN, configPath], {
      cwd: REPO_ROOT,
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, NODE_OPTIONS: "" },
    });
    n.child = child;
    n.ready = undefined;
    n.exited = undefined;
    n.exit = new Promise<ExitInfo>((resolve) => {
      child.once("exit", (code, signal) => {
        const info = { code, signal };
        if (n.child === child) n.exited = info;
        resolve(info);
      });
    });
    child.stdin?.on("error", () => undefined);
    let errBuf = "";
    child.stderr?.setEncoding("utf8");
    const logFile = this.logDir ? createWriteStream(path.join(this.logDir, `node-${n.id}.log`), { flags: "a" }) : undefined;
    child.once("exit", () => logFile?.end());
    child.stderr?.on("data", (chunk: string) => {
      errBuf += chunk;
      const lines = errBuf.split("\n");
      errBuf = lines.pop() ?? "";
      for (const l of lines) {
        logFile?.write(`${new Date().toISOString().slice(11, 23)} ${l}\n`);
        n.stderr.push(l);
        if (n.stderr.length > STDERR_KEEP_LINES) n.stderr.shift();
      }
    });
    return new Promise<ReadyLine>((resolve, reject) => {
      let outBuf = "";
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        child.kill("SIGKILL");
        reject(new NodeStartError(`node ${n.id} printed no ready line within ${READY_TIMEOUT_MS} ms`, undefined, n.log()));
      }, READY_TIMEOUT_MS);
      child.stdout?.setEncoding("utf8");
      child.stdout?.on("data", (chunk: string) => {
        outBuf += chunk;
        for (let i = outBuf.indexOf("\n"); i >= 0; i = outBuf.indexOf("\n")) {
          const line = outBuf.slice(0, i);
          outBuf = outBuf.slice(i + 1);
          let parsed: Partial<ReadyLine> | undefined;
          try {
            parsed = JSON.parse(line) as Partial<ReadyLine>;
          } catch {
            parsed = undefined;
          }
          if (!settled && parsed?.event === "ready") {
            settled = true;
            clearTimeout(timer);
            n.ready = parsed as ReadyLine;
            n.starts++;
            resolve(n.ready);
          }
        }
      });
      void n.exit!.then((info) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        // Let the last stderr bytes arrive before reporting.
        setTimeout(() => {
          if (errBuf) n.stderr.push(errBuf);
          reject(new NodeStartError(`node ${n.id} exited before it was ready (code ${info.code}, signal ${info.signal}):\n${n.log()}`, info, n.log()));
        }, 50);
      });
    });
  }

  /** Start a node process with an existing config (same data dir and ports). Retries EADDRINUSE. */
  async restart(id: number): Promise<ReadyLine> {
    const n = this.node(id);
    if (n.running) throw new Error(`node ${id} is still running (pid ${n.pid})`);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.launch(n);
      } catch (err) {
        if (!(err instanceof NodeStartError && err.addressInUse) || attempt >= 5) throw err;
        await sleep(200 * attempt);
      }
    }
  }

  /**
   * Start a new node that joins the cluster (`join: true`): it knows the current members'
   * addresses and waits to be added (AddLearner / AddNode) by the leader.
   */
  async startJoiner(id: number): Promise<NodeProcess> {
    if (this.nodes.has(id)) throw new Error(`node ${id} exists`);
    for (let attempt = 1; ; attempt++) {
      const [grpcPort, httpPort] = await reservePorts(2);
      const peers: Record<string, string> = {};
      for (const n of this.nodes.values()) if (n.running) peers[n.id] = n.grpcAddress;
      peers[id] = `127.0.0.1:${grpcPort}`;
      const dataDir = await mkdtemp(path.join(this.root, `node-${id}-`));
      const n = await this.define({ id, dataDir, grpcPort: grpcPort!, httpPort: httpPort!, peers, join: true });
      try {
        await this.launch(n);
        return n;
      } catch (err) {
        this.nodes.delete(id);
        await rm(dataDir, { recursive: true, force: true });
        if (!(err instanceof NodeStartError && err.addressInUse) || attempt >= 3) throw err;
      }
    }
  }

  /**
   * Run a node process once on a config of your own (for start-up refusals): returns how it
   * ended, or the ready line (the process is then stopped). Its stderr is returned too.
   */
  async runOnce(config: NodeConfigFile, name: string): Promise<{ ready?: ReadyLine; exit?: ExitInfo; stderr: string }> {
    const configPath = path.join(this.root, `${name}.json`);
    await writeFile(configPath, JSON.stringify(config, null, 2));
    const n = new NodeProcess(config, configPath);
    try {
      const ready = await this.launch(n);
      n.child?.kill("SIGKILL");
      await n.exit;
      return { ready, stderr: n.log() };
    } catch (err) {
      if (!(err instanceof NodeStartError)) throw err;
      return { ...(err.exit ? { exit: err.exit } : {}), stderr: err.stderr };
    }
  }

  node(id: number): NodeProcess {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id} in this cluster`);
    return n;
  }

  /** Ids of the nodes whose process runs. */
  live(): number[] {
    return [...this.nodes.values()].filter((n) => n.running).map((n) => n.id);
  }

  /** kill -9: SIGKILL the process and wait until it is gone. */
  async kill(id: number): Promise<ExitInfo> {
    const n = this.node(id);
    if (!n.running) return n.exited ?? { code: null, signal: null };
    n.child!.kill("SIGKILL");
    return n.exit!;
  }

  /** SIGTERM, then SIGKILL after `timeoutMs`. Resolves with how the process ended. */
  async stop(id: number, timeoutMs = STOP_TIMEOUT_MS): Promise<ExitInfo | undefined> {
    const n = this.nodes.get(id);
    if (!n || !n.running) return n?.exited;
    n.child!.kill("SIGTERM");
    const timer = setTimeout(() => n.child?.kill("SIGKILL"), timeoutMs);
    try {
      return await n.exit!;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Stop every node (SIGTERM, then SIGKILL), close clients, remove the data directories.
   * Resolves with how each process that was still running ended (a clean stop is code 0).
   */
  async stopAll(): Promise<Map<number, ExitInfo>> {
    this.stopped = true;
    for (const cl of this.clients.splice(0)) cl.close();
    const running = this.live();
    const exits = new Map<number, ExitInfo>();
    await Promise.all(
      running.map(async (id) => {
        const e = await this.stop(id);
        if (e) exits.set(id, e);
      }),
    );
    liveClusters.delete(this);
    await rm(this.root, { recursive: true, force: true, maxRetries: 3 });
    return exits;
  }

  /** Stop everything and expect every running node to exit cleanly (code 0 on SIGTERM). */
  async stopAllCleanly(): Promise<void> {
    const logs = this.logs();
    const exits = await this.stopAll();
    const unclean = [...exits].filter(([, e]) => e.code !== 0);
    if (unclean.length > 0) throw new Error(`nodes did not stop cleanly: ${JSON.stringify(unclean)}\n${logs}`);
  }

  /** Every running node answers /status without a fatal error. */
  async expectHealthy(ids = this.live()): Promise<void> {
    for (const id of ids) {
      if (!this.node(id).running) throw new Error(`node ${id} is not running (exit ${JSON.stringify(this.node(id).exited)})\n${this.logs()}`);
    }
    const st = await this.statuses(ids);
    for (const id of ids) {
      const s = st.get(id);
      if (!s) throw new Error(`node ${id} does not answer /status`);
      if (s.fatal) throw new Error(`node ${id} stopped itself: ${s.fatal}`);
    }
  }

  /** For the process 'exit' hook: SIGKILL every child now, synchronously. */
  killAllSync(): void {
    for (const n of this.nodes.values()) {
      if (n.running) {
        try {
          n.child!.kill("SIGKILL");
        } catch {
          /* already gone */
        }
      }
    }
  }

  /** A RaftClient over the given nodes (default: every running node); closed by stopAll. */
  client(o: Partial<ClientOptions> & { ids?: number[] } = {}): RaftClient {
    const ids = o.ids ?? this.live();
    const { ids: _ids, ...rest } = o;
    const cl = new RaftClient({ deadlineMs: 10_000, backoffMs: 10, ...rest, endpoints: ids.map((id) => this.node(id).grpcAddress) });
    this.clients.push(cl);
    return cl;
  }

  /**
   * Call a RaftAdmin method on the current leader, following leadership changes: NotLeader and
   * connection failures are retried, and so are the codes in `retryOn` (e.g. FailedPrecondition
   * for a Promote refused while the learner lags). Bounded by `timeoutMs`.
   */
  async adminOnLeader<T = unknown>(method: string, request: object, o: { retryOn?: NodeErrorCode[]; timeoutMs?: number } = {}): Promise<T> {
    const deadline = Date.now() + (o.timeoutMs ?? 20_000);
    const cl = this.client({ deadlineMs: 5_000 });
    let last: unknown;
    try {
      for (let attempt = 0; Date.now() < deadline; attempt++) {
        if (attempt > 0) await sleep(100);
        const leader = await this.leader().catch(() => undefined);
        if (leader === undefined) continue;
        try {
          return (await cl.admin(method, request, { endpoint: this.node(leader).grpcAddress })) as T;
        } catch (err) {
          last = err;
          const retry = isNodeError(err) && (err.code === "NotLeader" || err.code === "Stopped" || (o.retryOn ?? []).includes(err.code));
          if (!retry) throw err;
        }
      }
    } finally {
      cl.close();
    }
    throw new Error(`${method}(${JSON.stringify(request)}) did not succeed within ${o.timeoutMs ?? 20_000} ms; last error: ${(last as Error | undefined)?.message}`);
  }

  /**
   * GET /status of a node. A connection failure is retried twice: a kept-alive connection the
   * node closed while this process was busy (e.g. checking a history) fails once.
   */
  async status(id: number): Promise<HttpStatus> {
    for (let attempt = 1; ; attempt++) {
      let r: { status: number; body: string };
      try {
        r = await httpGet(this.node(id).httpAddress, "/status");
      } catch (err) {
        if (attempt >= 3) throw err;
        await sleep(50);
        continue;
      }
      if (r.status !== 200) throw new Error(`node ${id} /status answered ${r.status}: ${r.body}`);
      return JSON.parse(r.body) as HttpStatus;
    }
  }

  /** /status of every running node that answers (the others are left out). */
  async statuses(ids = this.live()): Promise<Map<number, HttpStatus>> {
    const out = new Map<number, HttpStatus>();
    await Promise.all(
      ids.map(async (id) => {
        try {
          out.set(id, await this.status(id));
        } catch {
          /* not answering */
        }
      }),
    );
    return out;
  }

  /** GET /metrics of a node (Prometheus text). */
  async metrics(id: number): Promise<string> {
    const r = await httpGet(this.node(id).httpAddress, "/metrics");
    if (r.status !== 200) throw new Error(`node ${id} /metrics answered ${r.status}`);
    return r.body;
  }

  /**
   * The leader as the running nodes report it: a node in role Leader whose term is the highest
   * any node reports, or undefined while there is none.
   */
  async leader(ids = this.live()): Promise<number | undefined> {
    const st = await this.statuses(ids);
    const maxTerm = Math.max(0, ...[...st.values()].map((s) => s.hardState.term));
    const leaders = [...st.values()].filter((s) => s.softState.raftState === "Leader" && s.hardState.term === maxTerm);
    return leaders.length === 1 ? leaders[0]!.id : undefined;
  }

  /** Wait until there is a leader (optionally one not in `except`). */
  waitForLeader(o: WaitOptions & { except?: number[] } = {}): Promise<number> {
    return waitFor(
      "a leader",
      async () => {
        const l = await this.leader();
        return l !== undefined && !(o.except ?? []).includes(l) ? l : undefined;
      },
      { timeoutMs: o.timeoutMs ?? 20_000, intervalMs: o.intervalMs ?? 50 },
    );
  }

  /** Wait until every given node has applied at least `index`. */
  waitForApplied(index: number, ids = this.live(), o: WaitOptions = {}): Promise<Map<number, HttpStatus>> {
    return waitFor(
      `nodes ${ids.join(",")} to apply ${index}`,
      async () => {
        const st = await this.statuses(ids);
        return st.size === ids.length && [...st.values()].every((s) => s.applied >= index) ? st : undefined;
      },
      { timeoutMs: o.timeoutMs ?? 30_000, intervalMs: o.intervalMs ?? 100 },
    );
  }

  /** Wait until the given nodes report the same applied index and commit (the log is quiet). */
  waitForConvergence(ids = this.live(), o: WaitOptions = {}): Promise<Map<number, HttpStatus>> {
    return waitFor(
      `nodes ${ids.join(",")} to converge`,
      async () => {
        const st = await this.statuses(ids);
        if (st.size !== ids.length) return undefined;
        const applied = new Set([...st.values()].map((s) => s.applied));
        const commit = Math.max(...[...st.values()].map((s) => s.hardState.commit));
        return applied.size === 1 && [...applied][0]! >= commit ? st : undefined;
      },
      { timeoutMs: o.timeoutMs ?? 30_000, intervalMs: o.intervalMs ?? 100 },
    );
  }

  /**
   * The kv state machine's contents on one node, read with `stale` queries (its local state):
   * the key count and the value of each of `keys` (undefined when missing).
   */
  async kvState(id: number, keys: readonly string[]): Promise<{ count: number; values: Record<string, string | undefined> }> {
    const cl = this.client({ ids: [id] });
    try {
      const count = parse<{ count: number }>((await cl.query("count", json({}), "stale")).output).count;
      const values: Record<string, string | undefined> = {};
      for (const k of keys) values[k] = parse<{ value?: string }>((await cl.query("get", json({ key: k }), "stale")).output).value;
      return { count, values };
    } finally {
      cl.close();
    }
  }

  /** Dump every node's stderr tail (for failure messages). */
  logs(): string {
    return [...this.nodes.values()].map((n) => `--- node ${n.id} (pid ${n.pid}, exited ${JSON.stringify(n.exited)}) ---\n${n.stderr.slice(-60).join("\n")}`).join("\n");
  }

}
