// `raftgen cluster <spec.yaml|project dir> [--nodes 3] [--port 7001] [--data <dir>]`: build the
// project if its generated code is stale, start a local N-node cluster of its generated server
// as separate processes (generator/cluster/supervisor.ts, LocalCluster), print each node's
// addresses and the path of <data>/cluster.json, then a live status line until Ctrl-C.
//
// Output. The status line (generator/cluster/status-line.ts) is rewritten in place about once a
// second when stdout is a terminal; otherwise a plain line is printed every 5 s and whenever
// the leader (or the set of nodes down) changes. A node that exits unexpectedly is reported on
// stderr with its exit code or signal and its last stderr lines; it is not restarted. When
// every node has exited the command stops.
//
// Stopping. SIGINT, SIGTERM or SIGHUP (or opts.signal, for tests) stops every node cleanly
// (SIGTERM, SIGKILL after 5 s; a second Ctrl-C kills at once) and resolves 0. The command's
// signal listeners are removed when it returns.
//
// Exit codes: 0 stopped on request; 1 the spec has problems (diagnostics printed, nothing
// started), a port is in use (named), a node failed to start, or every node exited; 2 bad usage
// or unreadable input (no spec, a data directory holding a different cluster shape).

import { relative } from "node:path";
import type { CliIO } from "./cli.js";
import { parseCommandArgs } from "./cli-args.js";
import { ClusterError, DEFAULT_NODES, DEFAULT_PORT, HTTP_PORT_OFFSET, LocalCluster, type LocalClusterOptions, MAX_NODES } from "./cluster/supervisor.js";
import { type StatusLine, statusLine } from "./cluster/status-line.js";

export const CLUSTER_USAGE = [
  "usage: raftgen cluster <spec.yaml | project dir> [--nodes 3] [--port 7001] [--data <dir>]",
  "",
  `  --nodes N   founding members, ids 1..N (1-${MAX_NODES}; default ${DEFAULT_NODES})`,
  `  --port P    gRPC port of node 1; node i uses P+i-1 for gRPC and P+${HTTP_PORT_OFFSET}+i-1 for HTTP (default ${DEFAULT_PORT})`,
  "  --data DIR  data directory (default <project>/data): node i's RocksDB in DIR/i, and DIR/cluster.json",
  "              listing { id, address, httpAddress, pid, dataDir } of every node while the cluster runs",
  "",
  "Builds generated/ when the spec or src/ changed, compiles to <project>/.raftgen/build, and runs until",
  "Ctrl-C. Starting again on the same --data brings the same cluster back with its data (the node count",
  "and ports are kept in DIR/cluster-config.json).",
  "",
  "exit status: 0 stopped by Ctrl-C / SIGTERM, 1 spec problems, a port in use or a node that failed, 2 bad usage",
].join("\n");

/** A plain line at least this often when stdout is not a terminal. */
const PLAIN_EVERY_MS = 5_000;
const TICK_MS = 1_000;

export interface ClusterCommandOptions {
  /** Aborting stops the cluster like SIGINT does (tests use this instead of signals). */
  signal?: AbortSignal;
  /** Whether stdout is a terminal (default: process.stdout.isTTY). */
  tty?: boolean;
  /** Terminal width for the in-place line (default: process.stdout.columns). */
  columns?: number;
  /** Listen to SIGINT / SIGTERM / SIGHUP (default true). */
  handleSignals?: boolean;
  /** Passed to LocalCluster.start (tests: fast elections, a shorter ready timeout, node env). */
  cluster?: Partial<Pick<LocalClusterOptions, "tuning" | "readyTimeoutMs" | "env" | "logLevel">>;
}

function positiveInt(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]+$/.test(text.trim())) throw new ClusterError("usage", `${flag}: ${JSON.stringify(text)} is not a whole number`);
  return Number(text.trim());
}

const shown = (p: string) => {
  const r = relative(process.cwd(), p);
  return r && !r.startsWith("..") ? r : p;
};

export async function clusterCommand(args: string[], io: CliIO, opts: ClusterCommandOptions = {}): Promise<number> {
  const parsed = parseCommandArgs("cluster", CLUSTER_USAGE, args, { nodes: { type: "string" }, port: { type: "string" }, data: { type: "string" } }, io);
  if (typeof parsed === "number") return parsed;
  if (parsed.positionals.length !== 1) return parsed.usageError(`expected one spec file or project directory, got ${parsed.positionals.length}`);
  const tty = opts.tty ?? process.stdout.isTTY === true;
  const columns = opts.columns ?? process.stdout.columns ?? 0;
  const handleSignals = opts.handleSignals ?? true;

  // In a terminal the status line sits on the last row without a newline: anything else
  // printed clears it first, and the next tick draws it again.
  let lineShown = false;
  const clearLine = () => {
    if (lineShown) {
      io.stdout("\r\x1b[2K");
      lineShown = false;
    }
  };
  const out = (s: string) => {
    clearLine();
    io.stdout(s);
  };
  const err = (s: string) => {
    clearLine();
    io.stderr(s);
  };

  // Stop requests can come while the cluster is still starting: remember them.
  let stopRequested = false;
  let requests = 0;
  let cluster: LocalCluster | undefined;
  let wake: (() => void) | undefined;
  const starting = new AbortController();
  const onStop = (why: string) => {
    requests++;
    if (requests === 1) {
      stopRequested = true;
      starting.abort();
      err(`raftgen cluster: ${why}: stopping every node (again to kill them at once)\n`);
    } else {
      err("raftgen cluster: killing every node now\n");
      cluster?.killAllSync();
    }
    wake?.();
  };
  const signalHandlers = (["SIGINT", "SIGTERM", "SIGHUP"] as const).map((sig) => [sig, () => onStop(sig)] as const);
  if (handleSignals) for (const [sig, h] of signalHandlers) process.on(sig, h);
  const onAbort = () => onStop("stop requested");
  opts.signal?.addEventListener("abort", onAbort);
  if (opts.signal?.aborted) onStop("stop requested");

  let allDown = false;
  try {
    try {
      cluster = await LocalCluster.start({
        project: parsed.positionals[0]!,
        ...(parsed.values.nodes !== undefined ? { nodes: positiveInt(parsed.values.nodes, "--nodes")! } : {}),
        ...(parsed.values.port !== undefined ? { port: positiveInt(parsed.values.port, "--port")! } : {}),
        ...(parsed.values.data !== undefined ? { data: parsed.values.data } : {}),
        ...opts.cluster,
        signal: starting.signal,
        log: (line) => out(`raftgen cluster: ${line}\n`),
        // Once every node serves; a node that fails to start is reported with its stderr tail instead.
        nodeLog: (id, line) => {
          if (cluster) err(line.startsWith(`[node ${id}]`) ? `${line}\n` : `[node ${id}] ${line}\n`);
        },
        onExit: (id, code, signal, tail) => {
          const how = signal ? `killed by signal ${signal}` : `exited with code ${code}`;
          const lines = tail.length ? `; its last stderr lines:\n${tail.map((l) => `  | ${l}`).join("\n")}\n` : " (it wrote nothing to stderr)\n";
          err(`raftgen cluster: node ${id} ${how}; it is not restarted${lines}`);
          wake?.();
        },
      });
    } catch (e) {
      if (!(e instanceof ClusterError)) throw e;
      if (stopRequested && e.kind === "state") {
        out("raftgen cluster: stopped before every node was ready\n");
        return 0;
      }
      if (e.diagnostics) err(e.diagnostics.endsWith("\n") ? e.diagnostics : `${e.diagnostics}\n`);
      err(`raftgen cluster: ${e.message}\n`);
      if (e.kind === "usage") err(`${CLUSTER_USAGE}\n`);
      return e.exitCode;
    }

    const c = cluster;
    const idWidth = String(c.nodes.length).length;
    const lines = c.nodes.map((n) => `  node ${String(n.id).padStart(idWidth)}  gRPC ${n.address}  HTTP ${n.httpAddress}  pid ${n.pid}  data ${shown(n.dataDir)}`);
    out(
      [
        `raftgen cluster: ${c.nodes.length} node${c.nodes.length === 1 ? "" : "s"} running, cluster id ${c.clusterId}`,
        ...lines,
        `  endpoints:    ${c.endpoints.join(",")}`,
        `  cluster.json: ${c.clusterFile}`,
        `Ctrl-C stops every node.`,
        "",
      ].join("\n"),
    );

    let last: StatusLine | undefined;
    let lastPrinted = 0;
    while (!stopRequested) {
      const s = await statusLine(c.nodes);
      if (stopRequested) break;
      if (tty) {
        const text = columns > 1 && s.line.length > columns - 1 ? s.line.slice(0, columns - 1) : s.line;
        io.stdout(`\r\x1b[2K${text}`);
        lineShown = true;
      } else {
        const changed = !last || last.leader !== s.leader || last.down.join() !== s.down.join();
        if (changed || Date.now() - lastPrinted >= PLAIN_EVERY_MS) {
          io.stdout(`${new Date().toISOString().slice(11, 19)} ${s.line}\n`);
          lastPrinted = Date.now();
        }
      }
      last = s;
      if (c.nodes.every((n) => !n.running)) {
        allDown = true;
        break;
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, TICK_MS);
        wake = () => {
          clearTimeout(t);
          r();
        };
      });
      wake = undefined;
    }
    if (allDown) {
      err("raftgen cluster: every node has exited; stopping\n");
      await c.stop();
      return 1;
    }
    await c.stop();
    const summary = c.nodes.map((n) => `node ${n.id} ${n.exit ? (n.exit.signal ? `signal ${n.exit.signal}` : `exit ${n.exit.code}`) : "not running"}`);
    out(`raftgen cluster: stopped (${summary.join(", ")})\n`);
    return 0;
  } finally {
    // Whatever happened, no node outlives the command, and no listener outlives it either.
    await cluster?.stop();
    clearLine();
    if (handleSignals) for (const [sig, h] of signalHandlers) process.off(sig, h);
    opts.signal?.removeEventListener("abort", onAbort);
  }
}
