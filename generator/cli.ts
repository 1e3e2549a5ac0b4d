// The `raftgen` command line: argument dispatch to subcommands, exit codes and usage text.
//
// `main` is what bin/raftgen.js calls. It takes the arguments (without `node` and the script)
// and an output sink, and resolves to the exit code; it never calls process.exit, so tests run
// it in-process. Exit codes: 0 success, 2 usage or input errors; subcommands add their own
// (lincheck: 1 not linearizable, 3 unknown).
//
// This file must not hold a subcommand's logic: each lives in its own module.

import { BUILD_USAGE, buildCommand } from "./build-command.js";
import { CALL_USAGE, callCommand } from "./call-command.js";
import { CLUSTER_USAGE, clusterCommand } from "./cluster-command.js";
import { suggest } from "./diagnostics.js";
import { INIT_USAGE, initCommand } from "./init-command.js";
import { lincheckCommand, LINCHECK_USAGE } from "./lincheck-command.js";
import { STATUS_USAGE, statusCommand } from "./status-command.js";

/** Where the CLI writes. Each call gets complete text (with its newlines). */
export interface CliIO {
  stdout(s: string): void;
  stderr(s: string): void;
}

interface Command {
  /** One line for the command list. */
  readonly summary: string;
  /** The command's own usage line(s). */
  readonly usage: string;
  run(args: string[], io: CliIO): Promise<number>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  build: {
    summary: "validate a spec and generate the typed service (generated/)",
    usage: BUILD_USAGE,
    run: buildCommand,
  },
  call: {
    summary: "call one command or query of a running service, JSON in and out",
    usage: CALL_USAGE,
    run: callCommand,
  },
  cluster: {
    summary: "build if needed and run a local N-node cluster of a project (separate processes)",
    usage: CLUSTER_USAGE,
    run: (args, io) => clusterCommand(args, io),
  },
  init: {
    summary: "scaffold a project from an example (counter, lock, placement-center)",
    usage: INIT_USAGE,
    run: initCommand,
  },
  lincheck: {
    summary: "check a recorded history for linearizability",
    usage: LINCHECK_USAGE,
    run: lincheckCommand,
  },
  status: {
    summary: "show the role, term, commit, applied index and lag of each node",
    usage: STATUS_USAGE,
    run: statusCommand,
  },
};

/** The top-level usage text. */
export function usage(): string {
  const names = Object.keys(COMMANDS).sort();
  const width = Math.max(...names.map((n) => n.length));
  const list = names.map((n) => `  ${n.padEnd(width)}  ${COMMANDS[n]!.summary}`).join("\n");
  return `usage: raftgen <command> [options]\n\ncommands:\n${list}\n\nRun "raftgen <command> --help" for a command's options.\n`;
}

/** Runs the CLI with `argv` (e.g. `process.argv.slice(2)`); resolves to the exit code. */
export async function main(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stderr(usage());
    return 2;
  }
  if (name === "-h" || name === "--help" || name === "help") {
    const sub = name === "help" && rest[0] !== undefined ? COMMANDS[rest[0]] : undefined;
    io.stdout(sub === undefined ? usage() : `${sub.usage}\n`);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    const hint = suggest(name, Object.keys(COMMANDS));
    io.stderr(`raftgen: unknown command ${JSON.stringify(name)}${hint ? `; did you mean ${JSON.stringify(hint)}?` : ""}\n\n${usage()}`);
    return 2;
  }
  return command.run(rest, io);
}
