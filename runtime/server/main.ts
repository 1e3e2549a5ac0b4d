// The node process: `node dist/runtime/server/main.js <config.json>` (or `--config <file>`).
// It starts one NodeServer from a JSON config, prints one JSON line
// `{"event":"ready","id":..,"grpc":"host:port","http":"host:port","pid":..}` on stdout once it
// serves, logs to stderr, and stops cleanly on SIGTERM / SIGINT. A data directory it must
// not run on (foreign cluster, other node, newer format, corrupt) stops it at start-up with
// the reason on stderr and exit code 2.
//
// Config: { id, clusterId, dataDir, host?, grpcPort, httpPort, peers: { "<id>": "host:port" },
//   join?, stateMachine: { module: "<path>", export?: "<name, default createStateMachine>" },
//   node?: { tickMs?, electionTicks?, heartbeatTicks?, snapshotEntries?, ... }, logLevel? }

import { readFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { StateMachine } from "../node/state-machine.js";
import { type LogLevel, levelLogger } from "../raft/index.js";
import { isStorageError } from "../storage/index.js";
import { startNodeServer, type NodeServerOptions } from "./server.js";

interface ProcessConfig {
  id: number;
  clusterId: string;
  dataDir: string;
  host?: string;
  grpcPort: number;
  httpPort: number;
  peers: Record<string, string>;
  join?: boolean;
  stateMachine: { module: string; export?: string };
  node?: NodeServerOptions["node"];
  logLevel?: LogLevel;
}

async function main(argv: string[]): Promise<number> {
  const path = argv[0] === "--config" ? argv[1] : argv[0];
  if (!path) {
    process.stderr.write("usage: main.js <config.json>\n");
    return 2;
  }
  let cfg: ProcessConfig;
  try {
    cfg = JSON.parse(await readFile(path, "utf8")) as ProcessConfig;
  } catch (err) {
    process.stderr.write(`cannot read config ${path}: ${(err as Error).message}\n`);
    return 2;
  }
  const id = cfg.id;
  const logger = levelLogger(cfg.logLevel ?? "warn", (line) => process.stderr.write(`[node ${id}] ${line}\n`));
  const modulePath = isAbsolute(cfg.stateMachine.module) ? cfg.stateMachine.module : resolve(cfg.stateMachine.module);
  const mod = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
  const factory = mod[cfg.stateMachine.export ?? "createStateMachine"];
  if (typeof factory !== "function") {
    process.stderr.write(`${modulePath} does not export a function ${cfg.stateMachine.export ?? "createStateMachine"}\n`);
    return 2;
  }
  const peers = new Map(Object.entries(cfg.peers).map(([k, v]) => [Number(k), v] as [number, string]));
  let server;
  try {
    server = await startNodeServer({
      id,
      clusterId: cfg.clusterId,
      dataDir: cfg.dataDir,
      ...(cfg.host ? { host: cfg.host } : {}),
      grpcPort: cfg.grpcPort,
      httpPort: cfg.httpPort,
      peers,
      join: cfg.join ?? false,
      stateMachine: (factory as () => StateMachine)(),
      ...(cfg.node ? { node: cfg.node } : {}),
      logger,
    });
  } catch (err) {
    if (isStorageError(err)) {
      process.stderr.write(`node ${id} refuses to start: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`node ${id} failed to start: ${(err as Error).stack ?? err}\n`);
    return 1;
  }
  process.stdout.write(`${JSON.stringify({ event: "ready", id, grpc: server.grpcAddress, http: server.httpAddress, pid: process.pid })}\n`);
  await new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
    // A node that stopped itself (storage failure) exits too, with its reason logged.
    const check = setInterval(() => {
      if (server.node.fatal()) resolveStop();
    }, 500);
    check.unref();
  });
  const fatal = server.node.fatal();
  await server.stop();
  return fatal ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  },
);
