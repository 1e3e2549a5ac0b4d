// LocalCluster: a project's generated server run as N node processes on 127.0.0.1 — what
// `raftgen cluster` runs, and what the demo, the benchmark and tests drive.
//
//   const c = await LocalCluster.start({ project: "examples/placement-center", nodes: 3, port: 7001 });
//   c.nodes;                 // [{ id, address, httpAddress, pid, dataDir, running, ... }]
//   await c.kill(2);         // SIGKILL (kill -9) and wait until it is gone
//   await c.restart(2);      // same ports, same data directory
//   await c.stop();          // SIGTERM to every node, SIGKILL after 5 s; idempotent
//
// start(): builds the project when generated/ is stale (project.ts; spec problems are a
// ClusterError "spec" with the diagnostics, and nothing is started), compiles it to
// <project>/.raftgen/build (compile.ts), checks that every port is free (a ClusterError "port"
// naming them otherwise, nothing started), spawns the nodes
//   node <build>/generated/server.js --id i --cluster-id C --data <data>/i --port P --http-port H --peers 1=...,2=...
// and waits for each one's ready line. A failed start stops what it started.
//
// Layout. Node i (1..n) serves gRPC on port+i-1 and HTTP on httpPort+i-1, where httpPort
// defaults to port+1000 (7001-7003 and 8001-8003 for the defaults), on 127.0.0.1. The data
// directory (default <project>/data) holds:
//   cluster-config.json  { clusterId, nodes, host, port, httpPort }: written on first start and
//                        reused by every later start on the same directory, so the same cluster
//                        (id, members, addresses) comes back with its data. Options that
//                        contradict it are a ClusterError "usage".
//   cluster.json         [{ id, address, httpAddress, pid, dataDir }]: written (atomically:
//                        write, then rename) once every node serves, rewritten when a node
//                        exits (pid null) or is restarted, removed by stop(). It is true
//                        whenever it exists: a script can find, and kill, a node with it.
//   tuning.json          the `node` tuning section, when start() was given one (--config).
//   1/, 2/, ...          each node's RocksDB directory. An empty one is bootstrapped with the
//                        founding members as voters on first start (runtime/server: a node not
//                        started with --join creates its directory with the peers as voters).
//
// Exits. A node that exits when neither kill() nor stop() asked it to is reported through
// onExit(id, code, signal, stderrTail) and cluster.json is rewritten; it is never restarted
// silently. Each node's last 20 stderr lines are kept.
//
// No node outlives its supervisor: stop() ends every process; a process 'exit' hook SIGKILLs
// whatever still runs; and each node preloads a guard (written to the build directory) that
// stops it when its stdin — a pipe from this process — closes, which covers a supervisor killed
// by SIGKILL. Nodes run in their own process group, so a terminal's Ctrl-C reaches only the
// supervisor, which then stops them in order.

import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { basename, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { randomBytes } from "node:crypto";
import type { NodeTuning } from "../../runtime/server/process.js";
import { CompileError, compileProject } from "./compile.js";
import { ClusterError } from "./errors.js";
import { type Project, buildIfStale, resolveProject } from "./project.js";
import { type NodeHttpStatus, readNodeStatus } from "./status-line.js";

export { ClusterError } from "./errors.js";
export type { NodeTuning };

export const DEFAULT_NODES = 3;
export const DEFAULT_PORT = 7001;
/** HTTP ports start this far above the gRPC ports unless httpPort is given. */
export const HTTP_PORT_OFFSET = 1000;
export const MAX_NODES = 9;
const HOST = "127.0.0.1";
const STDERR_TAIL_LINES = 20;
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;
const CONFIG_FILE = "cluster-config.json";
const CLUSTER_FILE = "cluster.json";
const TUNING_FILE = "tuning.json";
const GUARD_FILE = "raftgen-supervised.js";

/** Preloaded into every node (`--import`): stop when the supervisor's pipe on stdin closes. */
const GUARD_SOURCE = `// Written by raftgen cluster; preloaded into each node it starts. The supervisor keeps this
// process's stdin open as a pipe and never writes to it: when the supervisor dies (even by
// SIGKILL) the pipe closes and the node stops itself (SIGTERM, then a hard exit after 3 s).
const stop = () => {
  setTimeout(() => process.exit(1), 3000).unref();
  process.kill(process.pid, "SIGTERM");
};
process.stdin.on("data", () => {});
process.stdin.once("end", stop);
process.stdin.once("error", stop);
process.stdin.unref?.();
`;

export interface LocalClusterOptions {
  /** The project directory, or its spec file. */
  project: string;
  /** Number of founding members (ids 1..nodes); default 3, or what the data directory holds. */
  nodes?: number;
  /** gRPC port of node 1 (node i: port+i-1); default 7001, or what the data directory holds. */
  port?: number;
  /** HTTP port of node 1 (node i: httpPort+i-1); default port+1000. */
  httpPort?: number;
  /** Data directory; default <project>/data. */
  data?: string;
  /** Cluster id of a new cluster; default <project name>-<8 hex digits>. */
  clusterId?: string;
  /** Node tuning (tickMs, electionTicks, ...), passed to every node in <data>/tuning.json. */
  tuning?: NodeTuning;
  /** --log-level of every node (default: the node's own default, warn, or RAFTGEN_LOG_LEVEL). */
  logLevel?: "debug" | "info" | "warn" | "error";
  /** Supervisor messages (building, compiling, starting), one line each without a newline. */
  log?: (line: string) => void;
  /** Every line a node writes to stderr, as it comes. */
  nodeLog?: (id: number, line: string) => void;
  /** A node exited without kill() or stop() asking it to. */
  onExit?: (id: number, code: number | null, signal: NodeJS.Signals | null, stderrTail: string[]) => void;
  /** How long a node may take to print its ready line (default 30 s). */
  readyTimeoutMs?: number;
  /** Aborting while start() runs stops what it started; start() then throws a ClusterError "state". */
  signal?: AbortSignal;
  /** Extra environment variables for the nodes (over this process's; NODE_OPTIONS is dropped). */
  env?: Readonly<Record<string, string | undefined>>;
}

/** One node as the supervisor sees it. */
export interface NodeInfo {
  id: number;
  /** gRPC address, host:port. */
  address: string;
  httpAddress: string;
  /** RocksDB directory (absolute). */
  dataDir: string;
  /** The process id while the node runs. */
  pid: number | undefined;
  running: boolean;
  /** How the last process ended, when it did. */
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  /** The last lines the node wrote to stderr (at most 20). */
  stderrTail: string[];
}

/** An entry of <data>/cluster.json. */
export interface ClusterFileEntry {
  id: number;
  address: string;
  httpAddress: string;
  pid: number | null;
  dataDir: string;
}

/** <data>/cluster-config.json. */
interface StoredConfig {
  clusterId: string;
  nodes: number;
  host: string;
  port: number;
  httpPort: number;
}

interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface NodeState {
  id: number;
  grpcPort: number;
  httpPort: number;
  dataDir: string;
  child: ChildProcess | undefined;
  exit: ExitInfo | undefined;
  exited: Promise<ExitInfo> | undefined;
  /** Set before the supervisor itself ends the process (kill, stop): not reported. */
  expected: boolean;
  stderr: string[];
}

const live = new Set<LocalCluster>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const c of live) c.killAllSync();
  });
}

/** Whether host:port can be listened on now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const s = createServer();
    s.once("error", () => resolveFree(false));
    s.listen({ host: HOST, port, exclusive: true }, () => s.close(() => resolveFree(true)));
  });
}

/**
 * A gRPC base port P in [from, to) such that P..P+nodes-1 and their HTTP ports
 * (P+HTTP_PORT_OFFSET..) are free on 127.0.0.1 right now: candidates are drawn at random,
 * `skip` rules some out. For callers that cannot use the fixed default (tests, the demo).
 */
export async function findFreeBasePort(opts: { nodes: number; from: number; to: number; skip?: (port: number) => boolean; attempts?: number }): Promise<number> {
  for (let attempt = 0; attempt < (opts.attempts ?? 200); attempt++) {
    const p = opts.from + Math.floor(Math.random() * (opts.to - opts.from));
    if (p + HTTP_PORT_OFFSET + opts.nodes > 65_535 || opts.skip?.(p)) continue;
    const ports = Array.from({ length: opts.nodes }, (_, i) => [p + i, p + HTTP_PORT_OFFSET + i]).flat();
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return p;
  }
  throw new Error(`no free range of ${opts.nodes} gRPC and HTTP ports in [${opts.from}, ${opts.to}) on ${HOST}`);
}

function isPid(pid: unknown): pid is number {
  if (typeof pid !== "number" || !Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, path);
}

function exitText(e: ExitInfo): string {
  return e.signal ? `signal ${e.signal}` : `exit code ${e.code}`;
}

function checkInt(v: number | undefined, name: string, lo: number, hi: number): void {
  if (v !== undefined && (!Number.isSafeInteger(v) || v < lo || v > hi)) throw new ClusterError("usage", `${name} must be an integer from ${lo} to ${hi}, not ${v}`);
}

async function readStoredConfig(path: string): Promise<StoredConfig | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new ClusterError("usage", `cannot read ${path}: ${(err as Error).message}`);
  }
  let c: Partial<StoredConfig>;
  try {
    c = JSON.parse(text) as Partial<StoredConfig>;
  } catch (err) {
    throw new ClusterError("usage", `${path} is not valid JSON (${(err as Error).message}); fix it or use another --data`);
  }
  const ok =
    typeof c === "object" &&
    c !== null &&
    typeof c.clusterId === "string" &&
    c.clusterId !== "" &&
    Number.isSafeInteger(c.nodes) &&
    Number.isSafeInteger(c.port) &&
    Number.isSafeInteger(c.httpPort) &&
    typeof c.host === "string";
  if (!ok) throw new ClusterError("usage", `${path} is not a cluster configuration written by raftgen cluster; fix it or use another --data`);
  return c as StoredConfig;
}

export class LocalCluster {
  private readonly state = new Map<number, NodeState>();
  private stopping: Promise<void> | undefined;
  private clusterFileWritten = false;

  private constructor(
    readonly project: Project,
    /** The data directory (absolute). */
    readonly dataDir: string,
    readonly clusterId: string,
    private readonly config: StoredConfig,
    /** <project>/.raftgen/build. */
    readonly buildDir: string,
    private readonly serverEntry: string,
    private readonly guardFile: string,
    private readonly tuningFile: string | undefined,
    private readonly opts: LocalClusterOptions,
  ) {}

  /** Build (when stale), compile, check ports, start every node and wait until all serve. */
  static async start(opts: LocalClusterOptions): Promise<LocalCluster> {
    const log = opts.log ?? (() => undefined);
    checkInt(opts.nodes, "the number of nodes", 1, MAX_NODES);
    checkInt(opts.port, "the port", 1, 65_535);
    checkInt(opts.httpPort, "the HTTP port", 1, 65_535);
    if (opts.clusterId !== undefined && opts.clusterId.trim() === "") throw new ClusterError("usage", "the cluster id must not be empty");
    const project = await resolveProject(opts.project);
    const dataDir = resolve(opts.data ?? join(project.dir, "data"));

    // The data directory's configuration wins; options may only repeat it.
    const configPath = join(dataDir, CONFIG_FILE);
    const stored = await readStoredConfig(configPath);
    let config: StoredConfig;
    if (stored) {
      const clash = (
        [
          ["nodes", opts.nodes, stored.nodes, "--nodes"],
          ["port", opts.port, stored.port, "--port"],
          ["httpPort", opts.httpPort, stored.httpPort, "the HTTP port"],
          ["clusterId", opts.clusterId, stored.clusterId, "the cluster id"],
        ] as const
      ).filter(([, given, have]) => given !== undefined && given !== have);
      if (clash.length > 0) {
        const [, given, have, flag] = clash[0]!;
        throw new ClusterError(
          "usage",
          `${dataDir} holds a cluster with ${flag} ${have} (${CONFIG_FILE}); it cannot change to ${given}: leave ${flag} out to restart that cluster, or use another --data`,
        );
      }
      config = stored;
    } else {
      const nodes = opts.nodes ?? DEFAULT_NODES;
      const port = opts.port ?? DEFAULT_PORT;
      const httpPort = opts.httpPort ?? port + HTTP_PORT_OFFSET;
      const slug = basename(project.dir).toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "") || "cluster";
      config = { clusterId: opts.clusterId ?? `${slug}-${randomBytes(4).toString("hex")}`, nodes, host: HOST, port, httpPort };
    }
    const last = Math.max(config.port, config.httpPort) + config.nodes - 1;
    if (last > 65_535) throw new ClusterError("usage", `ports ${config.port}.. and ${config.httpPort}.. for ${config.nodes} nodes go past 65535: choose a lower --port`);
    const grpcPorts = Array.from({ length: config.nodes }, (_, i) => config.port + i);
    const httpPorts = Array.from({ length: config.nodes }, (_, i) => config.httpPort + i);
    const overlap = grpcPorts.find((p) => httpPorts.includes(p));
    if (overlap !== undefined) throw new ClusterError("usage", `gRPC and HTTP ports overlap at ${overlap}: choose ports further apart`);

    const built = await buildIfStale(project);
    if (built) log(built);
    let compiled;
    try {
      compiled = await compileProject(project.dir, { log });
    } catch (err) {
      if (err instanceof CompileError) throw new ClusterError("compile", "the project's TypeScript has syntax errors; nothing was started", err.diagnostics);
      throw new ClusterError("usage", (err as Error).message);
    }

    const taken: string[] = [];
    const free = await Promise.all([...grpcPorts, ...httpPorts].map(portFree));
    free.forEach((ok, i) => {
      if (ok) return;
      const isGrpc = i < config.nodes;
      const id = (i % config.nodes) + 1;
      taken.push(`${isGrpc ? grpcPorts[i] : httpPorts[i - config.nodes]} (${isGrpc ? "gRPC" : "HTTP"} of node ${id})`);
    });
    if (taken.length > 0) {
      let hint = "choose another --port";
      try {
        const running = (JSON.parse(readFileSync(join(dataDir, CLUSTER_FILE), "utf8")) as ClusterFileEntry[]).filter((e) => isPid(e.pid)).map((e) => e.pid);
        if (running.length > 0) hint = `a cluster may already run on ${dataDir} (pids ${running.join(", ")} in ${CLUSTER_FILE}); stop it, or ${hint}`;
      } catch {
        // no cluster.json: nothing to add
      }
      throw new ClusterError("port", `port${taken.length > 1 ? "s" : ""} ${taken.join(", ")} ${taken.length > 1 ? "are" : "is"} in use on ${HOST}; nothing was started: ${hint}`);
    }

    const guardFile = join(compiled.buildDir, GUARD_FILE);
    let tuningFile: string | undefined;
    try {
      await mkdir(dataDir, { recursive: true });
      if (!stored) writeJsonAtomic(configPath, config);
      if ((await readFile(guardFile, "utf8").catch(() => undefined)) !== GUARD_SOURCE) await writeFile(guardFile, GUARD_SOURCE);
      if (opts.tuning) {
        tuningFile = join(dataDir, TUNING_FILE);
        writeJsonAtomic(tuningFile, { node: opts.tuning });
      }
    } catch (err) {
      throw new ClusterError("usage", `cannot write ${dataDir}: ${(err as Error).message}`);
    }

    installExitHook();
    const c = new LocalCluster(project, dataDir, config.clusterId, config, compiled.buildDir, compiled.serverEntry, guardFile, tuningFile, opts);
    live.add(c);
    for (let id = 1; id <= config.nodes; id++) {
      c.state.set(id, {
        id,
        grpcPort: grpcPorts[id - 1]!,
        httpPort: httpPorts[id - 1]!,
        dataDir: join(dataDir, String(id)),
        child: undefined,
        exit: undefined,
        exited: undefined,
        expected: false,
        stderr: [],
      });
    }
    log(`starting ${config.nodes} node${config.nodes === 1 ? "" : "s"} of cluster ${config.clusterId} (data in ${dataDir})`);
    const onAbort = () => void c.stop();
    opts.signal?.addEventListener("abort", onAbort);
    let results;
    try {
      results = opts.signal?.aborted ? [] : await Promise.allSettled([...c.state.values()].map((n) => c.launch(n)));
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
    }
    if (opts.signal?.aborted) {
      await c.stop();
      throw new ClusterError("state", "stopped while starting");
    }
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) {
      await c.stop();
      throw failed.reason;
    }
    c.writeClusterFile();
    return c;
  }

  /** Every node, in id order. */
  get nodes(): NodeInfo[] {
    return [...this.state.values()].map((n) => this.info(n));
  }

  /** One node; throws for an unknown id. */
  node(id: number): NodeInfo {
    return this.info(this.get(id));
  }

  /** gRPC addresses of every node, in id order (for clients: `new XClient({ endpoints })`). */
  get endpoints(): string[] {
    return this.nodes.map((n) => n.address);
  }

  /** <data>/cluster.json. */
  get clusterFile(): string {
    return join(this.dataDir, CLUSTER_FILE);
  }

  /** Whether stop() has been called. */
  get stopped(): boolean {
    return this.stopping !== undefined;
  }

  /** /status of every running node that answers within `timeoutMs`. */
  async status(timeoutMs = 1_000): Promise<Map<number, NodeHttpStatus>> {
    const out = new Map<number, NodeHttpStatus>();
    await Promise.all(
      this.nodes
        .filter((n) => n.running)
        .map(async (n) => {
          const s = await readNodeStatus(n.httpAddress, timeoutMs);
          if (s) out.set(n.id, s);
        }),
    );
    return out;
  }

  /** Send `signal` (default SIGKILL, like kill -9) to a node and wait until it is gone. Not reported as unexpected. */
  async kill(id: number, signal: NodeJS.Signals = "SIGKILL"): Promise<ExitInfo> {
    const n = this.get(id);
    if (!this.running(n)) return n.exit ?? { code: null, signal: null };
    n.expected = true;
    n.child!.kill(signal);
    return n.exited!;
  }

  /** Start a node that is not running again: same ports, same data directory. Rewrites cluster.json. */
  async restart(id: number): Promise<NodeInfo> {
    const n = this.get(id);
    if (this.stopping) throw new ClusterError("state", "the cluster is stopped");
    if (this.running(n)) throw new ClusterError("state", `node ${id} is running (pid ${n.child!.pid}); kill it first`);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.launch(n);
        break;
      } catch (err) {
        // The old process's sockets may linger a moment after a kill.
        if (!(err instanceof ClusterError && err.kind === "port") || attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
    this.writeClusterFile();
    return this.info(n);
  }

  /**
   * Stop every node: SIGTERM, then SIGKILL for any still running after `graceMs` (default 5 s).
   * Resolves when every process is gone; removes cluster.json. Idempotent.
   */
  stop(graceMs = STOP_GRACE_MS): Promise<void> {
    this.stopping ??= (async () => {
      const running = [...this.state.values()].filter((n) => this.running(n));
      for (const n of running) {
        n.expected = true;
        n.child!.kill("SIGTERM");
      }
      const timer = setTimeout(() => {
        for (const n of running) if (this.running(n)) n.child!.kill("SIGKILL");
      }, graceMs);
      try {
        await Promise.all(running.map((n) => n.exited));
      } finally {
        clearTimeout(timer);
        live.delete(this);
        if (this.clusterFileWritten) rmSync(this.clusterFile, { force: true });
      }
    })();
    return this.stopping;
  }

  /** SIGKILL every running node now, synchronously (the process 'exit' hook; a second Ctrl-C). */
  killAllSync(): void {
    for (const n of this.state.values()) {
      if (!this.running(n)) continue;
      n.expected = true;
      try {
        n.child!.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
  }

  private get(id: number): NodeState {
    const n = this.state.get(id);
    if (!n) throw new ClusterError("usage", `no node ${id} in this cluster (ids 1..${this.state.size})`);
    return n;
  }

  private running(n: NodeState): boolean {
    return n.child !== undefined && n.exit === undefined;
  }

  private info(n: NodeState): NodeInfo {
    const running = this.running(n);
    return {
      id: n.id,
      address: `${this.config.host}:${n.grpcPort}`,
      httpAddress: `${this.config.host}:${n.httpPort}`,
      dataDir: n.dataDir,
      pid: running ? n.child!.pid : undefined,
      running,
      ...(n.exit ? { exit: { ...n.exit } } : {}),
      stderrTail: [...n.stderr],
    };
  }

  /** Write cluster.json (atomically) from the current state. */
  private writeClusterFile(): void {
    if (this.stopping) return;
    const entries: ClusterFileEntry[] = this.nodes.map((n) => ({ id: n.id, address: n.address, httpAddress: n.httpAddress, pid: n.pid ?? null, dataDir: n.dataDir }));
    writeJsonAtomic(this.clusterFile, entries);
    this.clusterFileWritten = true;
  }

  private args(n: NodeState): string[] {
    const peers = [...this.state.values()].map((p) => `${p.id}=${this.config.host}:${p.grpcPort}`).join(",");
    return [
      "--enable-source-maps",
      "--import",
      pathToFileURL(this.guardFile).href,
      this.serverEntry,
      ...(this.tuningFile ? ["--config", this.tuningFile] : []),
      "--id",
      String(n.id),
      "--cluster-id",
      this.clusterId,
      "--data",
      n.dataDir,
      "--host",
      this.config.host,
      "--port",
      String(n.grpcPort),
      "--http-port",
      String(n.httpPort),
      "--peers",
      peers,
      ...(this.opts.logLevel ? ["--log-level", this.opts.logLevel] : []),
    ];
  }

  /** Spawn a node and wait for its ready line; a ClusterError when it exits or hangs first. */
  private launch(n: NodeState): Promise<void> {
    const env: Record<string, string | undefined> = { ...process.env, ...this.opts.env };
    delete env.NODE_OPTIONS; // may carry this process's loaders (tsx, a test runner)
    const child = spawn(process.execPath, this.args(n), {
      cwd: this.project.dir,
      env,
      stdio: ["pipe", "pipe", "pipe"],
      // Own process group: a terminal's Ctrl-C goes to the supervisor only, which stops nodes in order.
      detached: true,
    });
    n.child = child;
    n.exit = undefined;
    n.expected = false;
    n.stderr.length = 0;
    child.stdin?.on("error", () => undefined);
    let errBuf = "";
    const pushErr = (line: string) => {
      n.stderr.push(line);
      if (n.stderr.length > STDERR_TAIL_LINES) n.stderr.shift();
      this.opts.nodeLog?.(n.id, line);
    };
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => {
      errBuf += chunk;
      const lines = errBuf.split("\n");
      errBuf = lines.pop() ?? "";
      for (const l of lines) pushErr(l);
    });
    // The exit event can come before the last stderr bytes: wait for both.
    const stderrDone = new Promise<void>((r) => child.stderr!.once("close", () => r()));
    n.exited = new Promise<ExitInfo>((resolveExit) => {
      child.once("exit", (code, signal) => {
        void Promise.race([stderrDone, new Promise((r) => setTimeout(r, 200))]).then(() => {
          if (errBuf) {
            pushErr(errBuf);
            errBuf = "";
          }
          const info = { code, signal };
          if (n.child === child) n.exit = info;
          resolveExit(info);
        });
      });
    });
    let ready = false;
    void n.exited.then((info) => {
      if (!ready || n.child !== child || this.stopping) return;
      this.writeClusterFile();
      if (n.expected) return;
      if (this.opts.onExit) this.opts.onExit(n.id, info.code, info.signal, [...n.stderr]);
      else this.opts.log?.(`node ${n.id} exited unexpectedly (${exitText(info)}); it is not restarted`);
    });

    const timeoutMs = this.opts.readyTimeoutMs ?? READY_TIMEOUT_MS;
    return new Promise<void>((resolveReady, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        n.expected = true;
        child.kill("SIGKILL");
        reject(new ClusterError("start", `node ${n.id} printed no ready line within ${timeoutMs} ms${this.tail(n)}`));
      }, timeoutMs);
      let outBuf = "";
      child.stdout!.setEncoding("utf8");
      child.stdout!.on("data", (chunk: string) => {
        outBuf += chunk;
        for (let i = outBuf.indexOf("\n"); i >= 0; i = outBuf.indexOf("\n")) {
          const line = outBuf.slice(0, i);
          outBuf = outBuf.slice(i + 1);
          let event: unknown;
          try {
            event = (JSON.parse(line) as { event?: unknown }).event;
          } catch {
            event = undefined;
          }
          if (event === "ready" && !settled) {
            settled = true;
            ready = true;
            clearTimeout(timer);
            resolveReady();
          } else if (event !== "ready") {
            this.opts.nodeLog?.(n.id, line);
          }
        }
      });
      void n.exited!.then((info) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const text = n.stderr.join("\n");
        const portTaken = /EADDRINUSE|address already in use|No address added/i.test(text);
        if (portTaken) {
          reject(new ClusterError("port", `node ${n.id} could not bind port ${n.grpcPort} or ${n.httpPort} on ${this.config.host} (in use)${this.tail(n)}`));
        } else if (info.code === 2) {
          reject(new ClusterError("start", `node ${n.id} refuses to start (exit code 2)${this.tail(n)}`));
        } else {
          reject(new ClusterError("start", `node ${n.id} exited before it was ready (${exitText(info)})${this.tail(n)}`));
        }
      });
    });
  }

  private tail(n: NodeState): string {
    return n.stderr.length ? `; its last stderr lines:\n${n.stderr.map((l) => `  ${l}`).join("\n")}` : " (it wrote nothing to stderr)";
  }
}
