// The node process, as one reusable function: runNodeProcess() loads the configuration
// (a JSON file, command-line flags and RAFTGEN_* environment variables), builds the state
// machine, starts a NodeServer, prints one JSON line
// `{"event":"ready","id":..,"grpc":"host:port","http":"host:port","pid":..}` on stdout once it
// serves, logs to stderr, stops cleanly on SIGTERM / SIGINT, and returns the exit code:
//   0  stopped on a signal
//   1  the node stopped itself (storage failure) or failed to start for an environmental
//      reason (a port in use, ...; the error is printed in full)
//   2  a user mistake: bad configuration, a state machine that cannot be built, or a data
//      directory the node must not run on (foreign cluster, other node, newer format,
//      corrupt). One line on stderr, never a stack trace.
// It never throws and never calls process.exit. runtime/server/main.ts (state machine from a
// module named in the config file) and generated servers (runtime/codegen-v1 runServer: the
// state machine from handlers, plus the spec's typed service) are thin callers.
//
// Configuration. Each setting comes from a flag, else an environment variable, else the file:
//   file key    flag            environment          meaning
//   id          --id N          RAFTGEN_ID           node id (integer >= 1)
//   clusterId   --cluster-id S  RAFTGEN_CLUSTER_ID   cluster id (non-empty)
//   dataDir     --data DIR      RAFTGEN_DATA         RocksDB data directory
//   host        --host H        RAFTGEN_HOST         address to bind (default 127.0.0.1)
//   grpcPort    --port P        RAFTGEN_PORT         gRPC port (0 = any free port)
//   httpPort    --http-port P   RAFTGEN_HTTP_PORT    HTTP port (default 0 = any free port)
//   peers       --peers L       RAFTGEN_PEERS        members: {"1":"host:port",...} in the file,
//                                                    `1=host:port,2=host:port` elsewhere;
//                                                    default: this node alone
//   join        --join          -                    start empty and wait to be added
//   logLevel    --log-level L   RAFTGEN_LOG_LEVEL    debug, info, warn (default) or error
//   node        -               -                    tuning: { tickMs, electionTicks, ... }
// The file is `--config FILE` or the first positional argument. Flags also take the
// `--flag=value` form. Unknown flags and unknown file keys are errors.

import { readFile } from "node:fs/promises";
import type { StateMachine } from "../node/state-machine.js";
import { type LogLevel, levelLogger } from "../raft/index.js";
import { isStorageError } from "../storage/index.js";
import { type NodeServer, type NodeServerOptions, startNodeServer } from "./server.js";

/** A user mistake in the configuration: reported as one line, exit code 2. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** Node tuning, as in NodeServerOptions. */
export type NodeTuning = NonNullable<NodeServerOptions["node"]>;

/** A loaded, validated configuration. */
export interface NodeProcessConfig {
  id: number;
  clusterId: string;
  dataDir: string;
  host?: string;
  grpcPort: number;
  httpPort: number;
  peers: Map<number, string>;
  join: boolean;
  logLevel: LogLevel;
  node?: NodeTuning;
  /** The config file, when there was one: its path and parsed JSON (for extra keys). */
  file?: { path: string; json: Record<string, unknown> };
}

export interface ProcessIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export interface NodeProcessOptions {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  /** Prefix of error lines and name in the usage text ("raftgen node"). */
  program: string;
  /** Top-level keys the config file may have besides the common ones (e.g. "stateMachine"). */
  extraFileKeys?: readonly string[];
  /** Build the state machine. A ConfigError (or any error) here is a user mistake: exit 2. */
  stateMachine(config: NodeProcessConfig): StateMachine | Promise<StateMachine>;
  /** Extra gRPC services (NodeServerOptions.services). */
  services?: NodeServerOptions["services"];
  /** Where output goes (default: the process's stdout and stderr). */
  io?: ProcessIo;
  /** Stops the node when it resolves (default: on SIGTERM or SIGINT). */
  stop?: Promise<void>;
}

const USAGE_OPTIONS = `options (flags override RAFTGEN_* environment variables, which override the file):
  --config FILE        JSON config file (or the first positional argument)
  --id N               node id (RAFTGEN_ID)
  --cluster-id S       cluster id (RAFTGEN_CLUSTER_ID)
  --data DIR           data directory (RAFTGEN_DATA)
  --host H             address to bind, default 127.0.0.1 (RAFTGEN_HOST)
  --port P             gRPC port (RAFTGEN_PORT)
  --http-port P        HTTP port, default any free one (RAFTGEN_HTTP_PORT)
  --peers 1=H:P,2=H:P  cluster members, default this node alone (RAFTGEN_PEERS)
  --join               start empty and wait to be added to a running cluster
  --log-level L        debug, info, warn or error (RAFTGEN_LOG_LEVEL)
`;

const COMMON_FILE_KEYS = ["id", "clusterId", "dataDir", "host", "grpcPort", "httpPort", "peers", "join", "logLevel", "node"];
const LOG_LEVELS = new Set<string>(["debug", "info", "warn", "error"]);
const TUNING_NUMBERS = [
  "tickMs",
  "electionTicks",
  "heartbeatTicks",
  "snapshotEntries",
  "catchUpEntries",
  "maxSizePerMsg",
  "maxInflightMsgs",
  "maxPendingProposals",
  "proposalTimeoutMs",
  "readTimeoutMs",
];
const TUNING_BOOLEANS = ["preVote", "checkQuorum"];

type FlagName = "config" | "id" | "cluster-id" | "data" | "host" | "port" | "http-port" | "peers" | "join" | "log-level" | "help";
const VALUE_FLAGS = new Set<FlagName>(["config", "id", "cluster-id", "data", "host", "port", "http-port", "peers", "log-level"]);
const BOOLEAN_FLAGS = new Set<FlagName>(["join", "help"]);

interface Args {
  flags: Map<FlagName, string | true>;
  positional: string[];
}

function parseArgs(argv: readonly string[]): Args {
  const flags = new Map<FlagName, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "-h") {
      flags.set("help", true);
      continue;
    }
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = (eq < 0 ? arg.slice(2) : arg.slice(2, eq)) as FlagName;
    if (VALUE_FLAGS.has(name)) {
      let value: string | undefined = eq < 0 ? argv[++i] : arg.slice(eq + 1);
      if (value === undefined || (eq < 0 && value.startsWith("--"))) throw new ConfigError(`--${name} needs a value`);
      if (flags.has(name)) throw new ConfigError(`--${name} given twice`);
      flags.set(name, value);
    } else if (BOOLEAN_FLAGS.has(name)) {
      if (eq >= 0) throw new ConfigError(`--${name} takes no value`);
      flags.set(name, true);
    } else {
      throw new ConfigError(`unknown option ${arg.slice(0, eq < 0 ? undefined : eq)} (--help lists the options)`);
    }
  }
  if (positional.length > 1 || (positional.length === 1 && flags.has("config"))) {
    throw new ConfigError(`unexpected argument ${JSON.stringify(positional[flags.has("config") ? 0 : 1])} (one config file at most)`);
  }
  return { flags, positional };
}

/** A setting's raw value and where it came from (for messages). */
interface Source {
  value: unknown;
  where: string;
  /** Text from a flag or the environment (parse it), or a JSON value from the file. */
  text: boolean;
}

function describeJson(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : Array.isArray(v) ? "an array" : v === null ? "null" : typeof v === "object" ? "an object" : String(v);
}

function integer(s: Source, lo: number, hi: number, what: string): number {
  let n: number;
  if (s.text) n = /^-?[0-9]+$/.test(String(s.value).trim()) ? Number(String(s.value).trim()) : NaN;
  else n = typeof s.value === "number" ? s.value : NaN;
  if (!Number.isSafeInteger(n) || n < lo || n > hi) throw new ConfigError(`${s.where}: ${describeJson(s.value)} is not ${what}`);
  return n;
}

function nonEmptyString(s: Source, what: string): string {
  if (typeof s.value !== "string" || s.value.trim() === "") throw new ConfigError(`${s.where}: ${describeJson(s.value)} is not ${what}`);
  return s.value;
}

const ADDRESS = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):[0-9]{1,5}$/;

function peersOf(s: Source): Map<number, string> {
  const entries: [string, unknown][] = [];
  if (s.text) {
    const text = String(s.value).trim();
    if (text === "") throw new ConfigError(`${s.where}: empty peer list (expected 1=host:port,2=host:port)`);
    for (const part of text.split(",")) {
      const eq = part.indexOf("=");
      if (eq < 0) throw new ConfigError(`${s.where}: ${JSON.stringify(part)} is not id=host:port`);
      entries.push([part.slice(0, eq).trim(), part.slice(eq + 1).trim()]);
    }
  } else {
    if (typeof s.value !== "object" || s.value === null || Array.isArray(s.value)) {
      throw new ConfigError(`${s.where}: ${describeJson(s.value)} is not an object of node id -> "host:port"`);
    }
    entries.push(...Object.entries(s.value));
  }
  const peers = new Map<number, string>();
  for (const [k, v] of entries) {
    const id = /^[0-9]+$/.test(k) ? Number(k) : NaN;
    if (!Number.isSafeInteger(id) || id < 1) throw new ConfigError(`${s.where}: peer id ${JSON.stringify(k)} is not an integer >= 1`);
    if (typeof v !== "string" || !ADDRESS.test(v)) throw new ConfigError(`${s.where}: address ${describeJson(v)} of peer ${id} is not host:port`);
    if (peers.has(id)) throw new ConfigError(`${s.where}: peer ${id} listed twice`);
    peers.set(id, v);
  }
  return peers;
}

function tuningOf(v: unknown, where: string): NodeTuning {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ConfigError(`${where}: ${describeJson(v)} is not an object`);
  const out: Record<string, number | boolean> = {};
  for (const [k, x] of Object.entries(v)) {
    if (TUNING_NUMBERS.includes(k)) {
      if (typeof x !== "number" || !Number.isSafeInteger(x) || x < 1) throw new ConfigError(`${where}.${k}: ${describeJson(x)} is not an integer >= 1`);
      out[k] = x;
    } else if (TUNING_BOOLEANS.includes(k)) {
      if (typeof x !== "boolean") throw new ConfigError(`${where}.${k}: ${describeJson(x)} is not true or false`);
      out[k] = x;
    } else {
      throw new ConfigError(`${where}: unknown key ${JSON.stringify(k)} (known: ${[...TUNING_NUMBERS, ...TUNING_BOOLEANS].join(", ")})`);
    }
  }
  return out as NodeTuning;
}

async function readConfigFile(path: string, allowed: readonly string[]): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ConfigError(`cannot read config file ${path}: ${e.code === "ENOENT" ? "no such file" : e.message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new ConfigError(`config file ${path}: expected a JSON object`);
  for (const key of Object.keys(json)) {
    if (!allowed.includes(key)) throw new ConfigError(`config file ${path}: unknown key ${JSON.stringify(key)} (known: ${allowed.join(", ")})`);
  }
  return json as Record<string, unknown>;
}

/**
 * Load and validate the configuration from argv, env and the config file they name. Returns
 * "help" for --help. Throws ConfigError for any mistake.
 */
export async function loadNodeConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  extraFileKeys: readonly string[] = [],
): Promise<NodeProcessConfig | "help"> {
  const args = parseArgs(argv);
  if (args.flags.has("help")) return "help";
  const filePath = (args.flags.get("config") as string | undefined) ?? args.positional[0];
  const json = filePath !== undefined ? await readConfigFile(filePath, [...COMMON_FILE_KEYS, ...extraFileKeys]) : undefined;

  const pick = (fileKey: string, flag: FlagName | undefined, envName: string | undefined): Source | undefined => {
    const f = flag ? args.flags.get(flag) : undefined;
    if (typeof f === "string") return { value: f, where: `--${flag}`, text: true };
    const e = envName ? env[envName] : undefined;
    if (e !== undefined && e !== "") return { value: e, where: envName!, text: true };
    if (json && json[fileKey] !== undefined) return { value: json[fileKey], where: `${filePath}: "${fileKey}"`, text: false };
    return undefined;
  };
  const required = <T>(s: Source | undefined, what: string, flag: string, envName: string, key: string, parse: (s: Source) => T): T => {
    if (!s) {
      if (!filePath && args.flags.size === 0 && !Object.keys(env).some((k) => k.startsWith("RAFTGEN_") && COMMON_ENV.has(k))) {
        throw new ConfigError("no configuration: pass a config file (--config node.json), flags (--id, --cluster-id, --data, --port, ...) or RAFTGEN_* variables; --help lists them");
      }
      throw new ConfigError(`no ${what}: set "${key}" in the config file, ${flag} or ${envName}`);
    }
    return parse(s);
  };

  const id = required(pick("id", "id", "RAFTGEN_ID"), "node id", "--id", "RAFTGEN_ID", "id", (s) => integer(s, 1, Number.MAX_SAFE_INTEGER, "a node id (an integer >= 1)"));
  const clusterId = required(pick("clusterId", "cluster-id", "RAFTGEN_CLUSTER_ID"), "cluster id", "--cluster-id", "RAFTGEN_CLUSTER_ID", "clusterId", (s) =>
    nonEmptyString(s, "a cluster id (a non-empty string)"),
  );
  const dataDir = required(pick("dataDir", "data", "RAFTGEN_DATA"), "data directory", "--data", "RAFTGEN_DATA", "dataDir", (s) => nonEmptyString(s, "a directory path"));
  const grpcPort = required(pick("grpcPort", "port", "RAFTGEN_PORT"), "gRPC port", "--port", "RAFTGEN_PORT", "grpcPort", (s) => integer(s, 0, 65_535, "a port number (0-65535)"));
  const httpSource = pick("httpPort", "http-port", "RAFTGEN_HTTP_PORT");
  const httpPort = httpSource ? integer(httpSource, 0, 65_535, "a port number (0-65535)") : 0;
  const hostSource = pick("host", "host", "RAFTGEN_HOST");
  const host = hostSource ? nonEmptyString(hostSource, "a host name or address") : undefined;
  const levelSource = pick("logLevel", "log-level", "RAFTGEN_LOG_LEVEL");
  const logLevel = levelSource ? nonEmptyString(levelSource, "a log level") : "warn";
  if (!LOG_LEVELS.has(logLevel)) throw new ConfigError(`${levelSource!.where}: ${JSON.stringify(logLevel)} is not a log level (debug, info, warn or error)`);
  let join = false;
  if (args.flags.get("join") === true) join = true;
  else if (json && json.join !== undefined) {
    if (typeof json.join !== "boolean") throw new ConfigError(`${filePath}: "join": ${describeJson(json.join)} is not true or false`);
    join = json.join;
  }
  const peersSource = pick("peers", "peers", "RAFTGEN_PEERS");
  let peers: Map<number, string>;
  if (peersSource) {
    peers = peersOf(peersSource);
  } else if (join) {
    throw new ConfigError("a joining node needs the addresses of current members: set peers");
  } else {
    peers = new Map([[id, `${host ?? "127.0.0.1"}:${grpcPort}`]]);
  }
  const node = json && json.node !== undefined ? tuningOf(json.node, `${filePath}: "node"`) : undefined;
  return {
    id,
    clusterId,
    dataDir,
    ...(host !== undefined ? { host } : {}),
    grpcPort,
    httpPort,
    peers,
    join,
    logLevel: logLevel as LogLevel,
    ...(node ? { node } : {}),
    ...(json && filePath !== undefined ? { file: { path: filePath, json } } : {}),
  };
}

const COMMON_ENV = new Set(["RAFTGEN_ID", "RAFTGEN_CLUSTER_ID", "RAFTGEN_DATA", "RAFTGEN_HOST", "RAFTGEN_PORT", "RAFTGEN_HTTP_PORT", "RAFTGEN_PEERS", "RAFTGEN_LOG_LEVEL"]);

const defaultIo: ProcessIo = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
};

/** One line: the first line of a message, trimmed (a user mistake never prints a trace). */
const oneLine = (s: string) => s.split("\n")[0]!.trim();

/** Run a node process; resolves with the exit code (see the file comment). Never throws. */
export async function runNodeProcess(o: NodeProcessOptions): Promise<number> {
  const io = o.io ?? defaultIo;
  try {
    return await run(o, io);
  } catch (err) {
    // A bug, not a user mistake: show it whole.
    io.stderr(`${o.program}: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

async function run(o: NodeProcessOptions, io: ProcessIo): Promise<number> {
  let cfg: NodeProcessConfig | "help";
  try {
    cfg = await loadNodeConfig(o.argv, o.env, o.extraFileKeys);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr(`${o.program}: ${oneLine(err.message)}\n`);
    return 2;
  }
  if (cfg === "help") {
    io.stdout(`usage: ${o.program} [--config FILE | FILE] [options]\n${USAGE_OPTIONS}`);
    return 0;
  }
  const config = cfg;
  const id = config.id;
  let stateMachine: StateMachine;
  try {
    stateMachine = await o.stateMachine(config);
  } catch (err) {
    io.stderr(`${o.program}: ${err instanceof ConfigError ? "" : "cannot create the state machine: "}${oneLine(err instanceof Error ? err.message : String(err))}\n`);
    return 2;
  }
  const logger = levelLogger(config.logLevel, (line) => io.stderr(`[node ${id}] ${line}\n`));
  let server: NodeServer;
  try {
    server = await startNodeServer({
      id,
      clusterId: config.clusterId,
      dataDir: config.dataDir,
      ...(config.host !== undefined ? { host: config.host } : {}),
      grpcPort: config.grpcPort,
      httpPort: config.httpPort,
      peers: config.peers,
      join: config.join,
      stateMachine,
      ...(o.services ? { services: o.services } : {}),
      ...(config.node ? { node: config.node } : {}),
      logger,
    });
  } catch (err) {
    if (isStorageError(err)) {
      io.stderr(`node ${id} refuses to start: ${oneLine(err.message)}\n`);
      return 2;
    }
    io.stderr(`node ${id} failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
  io.stdout(`${JSON.stringify({ event: "ready", id, grpc: server.grpcAddress, http: server.httpAddress, pid: process.pid })}\n`);
  await new Promise<void>((resolveStop) => {
    let check: NodeJS.Timeout | undefined;
    const stop = () => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      if (check) clearInterval(check);
      resolveStop();
    };
    if (o.stop) void o.stop.then(stop, stop);
    else {
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
    }
    // A node that stopped itself (storage failure) exits too, with its reason logged.
    check = setInterval(() => {
      if (server.node.fatal()) stop();
    }, 500);
    check.unref();
  });
  const fatal = server.node.fatal();
  await server.stop();
  return fatal ? 1 : 0;
}
