// runServer: the node process of a generated service (generated/server.ts calls it). The
// configuration, start-up, ready line, signals and exit codes are runtime/server/process.ts's
// (shared with runtime/server/main.ts): a JSON file (`--config node.json` or the first
// argument; the keys of main.ts without `stateMachine`), flags (--id --cluster-id --data
// --host --port --http-port --peers --join --log-level) and RAFTGEN_* variables, flags first.
// The state machine is built from the handlers, and the node serves the spec's typed gRPC
// service beside the generic one.
//
// runServer never throws and never calls process.exit: it sets process.exitCode (2 and one
// line on stderr for a user mistake) and resolves when the node has stopped.

import { runNodeProcess } from "../server/process.js";
import type { CompiledService } from "./codec.js";
import { typedServices } from "./grpc-service.js";
import { type ServiceHandlers, createServiceStateMachine } from "./state-machine.js";

/** Run a node of `service` with `handlers` until SIGTERM / SIGINT; sets process.exitCode. */
export async function runServer(
  service: CompiledService,
  handlers: ServiceHandlers,
  argv: readonly string[] = process.argv.slice(2),
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<void> {
  process.exitCode = await runNodeProcess({
    argv,
    env,
    program: `${service.descriptor.service} node`,
    stateMachine: () => createServiceStateMachine(service, handlers),
    services: typedServices(service),
  });
}
