// `raftgen status --endpoints host:port,... [--json] [--timeout-ms N]`: every endpoint's view of
// the cluster (role, term, leader, commit, applied, last index, lag, snapshot index, health),
// asked in parallel, as a table or (--json) as a JSON array of the same rows.
//
// Exit codes: 0 at least one node answered (an endpoint that did not is a row saying so),
// 1 no node answered, 2 bad usage.
//
// This file wires generator/status.ts to the command line.

import type { CliIO } from "./cli.js";
import { parseCommandArgs } from "./cli-args.js";
import { DEFAULT_STATUS_TIMEOUT_MS, STATUS_KEYS, collectStatus, formatStatusTable, parseEndpoints, parseTimeoutMs } from "./status.js";

export const STATUS_USAGE = [
  "usage: raftgen status --endpoints host:port,... [--json] [--timeout-ms N]",
  "",
  "  --endpoints   gRPC addresses of the nodes to ask (comma-separated; the flag may be repeated)",
  "  --json        print the rows as a JSON array instead of a table",
  `  --timeout-ms  how long to wait for each node (default ${DEFAULT_STATUS_TIMEOUT_MS})`,
  "",
  "columns: node, address, role, term, leader, commit, applied, last index,",
  "  lag (the leader's last index, or the highest commit, minus the node's applied index),",
  '  snapshot index, health (ok, "unreachable: <reason>", "no leader", "lagging")',
  "",
  "exit status: 0 at least one node answered, 1 no node answered, 2 bad usage",
].join("\n");

/** Runs `raftgen status` with the arguments after the subcommand name. */
export async function statusCommand(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs("status", STATUS_USAGE, args, { endpoints: { type: "string", multiple: true }, json: { type: "boolean" }, "timeout-ms": { type: "string" } }, io);
  if (typeof parsed === "number") return parsed;
  const { values, positionals, usageError } = parsed;
  if (positionals.length > 0) return usageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  if (values.endpoints === undefined) return usageError("--endpoints is required");
  const eps = parseEndpoints(values.endpoints);
  if ("error" in eps) return usageError(eps.error);
  const timeout = parseTimeoutMs(values["timeout-ms"], DEFAULT_STATUS_TIMEOUT_MS);
  if ("error" in timeout) return usageError(timeout.error);

  const rows = await collectStatus(eps.endpoints, { timeoutMs: timeout.timeoutMs });
  if (values.json) {
    // Keys in STATUS_KEYS order, whatever order the rows were built in.
    const ordered = rows.map((r) => Object.fromEntries(STATUS_KEYS.map((k) => [k, r[k]])));
    io.stdout(`${JSON.stringify(ordered, null, 2)}\n`);
  } else {
    io.stdout(formatStatusTable(rows));
  }
  if (rows.every((r) => r.term === null)) {
    io.stderr(`raftgen status: no node answered (${rows.length} endpoint${rows.length === 1 ? "" : "s"})\n`);
    return 1;
  }
  return 0;
}
