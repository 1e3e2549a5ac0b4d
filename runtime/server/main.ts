// The node process of a hand-written state machine: `node dist/runtime/server/main.js
// <config.json>` (or `--config <file>`, plus flags and RAFTGEN_* variables: see process.ts,
// which does all the work: config, start-up, the ready line, signals, exit codes). The config
// file names the state machine module:
//
//   { id, clusterId, dataDir, host?, grpcPort, httpPort?, peers: { "<id>": "host:port" },
//     join?, stateMachine: { module: "<path>", export?: "<name, default createStateMachine>" },
//     node?: { tickMs?, electionTicks?, heartbeatTicks?, snapshotEntries?, ... }, logLevel? }
//
// A generated service has its own entry (runtime/codegen-v1 runServer) with its state machine
// built in. This file only adds the module loading.

import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { StateMachine } from "../node/state-machine.js";
import { ConfigError, type NodeProcessConfig, runNodeProcess } from "./process.js";

async function loadStateMachine(config: NodeProcessConfig): Promise<StateMachine> {
  const file = config.file;
  const spec = file?.json.stateMachine as { module?: unknown; export?: unknown } | undefined;
  if (!file || typeof spec !== "object" || spec === null || typeof spec.module !== "string" || spec.module === "") {
    throw new ConfigError(`${file ? `config file ${file.path}` : "the config file"} must name the state machine: "stateMachine": { "module": "<path>" }`);
  }
  if (spec.export !== undefined && typeof spec.export !== "string") throw new ConfigError(`config file ${file.path}: "stateMachine.export" must be a string`);
  const name = (spec.export as string | undefined) ?? "createStateMachine";
  const modulePath = isAbsolute(spec.module) ? spec.module : resolve(spec.module);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`cannot load the state machine module ${modulePath}: ${(err as Error).message}`);
  }
  const factory = mod[name];
  if (typeof factory !== "function") throw new ConfigError(`${modulePath} does not export a function ${name}`);
  return (factory as () => StateMachine)();
}

runNodeProcess({
  argv: process.argv.slice(2),
  env: process.env,
  program: "raftgen node",
  extraFileKeys: ["stateMachine"],
  stateMachine: loadStateMachine,
}).then((code) => {
  process.exitCode = code;
});
