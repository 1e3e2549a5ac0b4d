// The `raftgen` command line: argument dispatch to subcommands, exit codes and usage text.
//
// `main` is what bin/raftgen.js calls. It takes the arguments (without `node` and the script)
// and an output sink, and resolves to the exit code; it never calls process.exit, so tests run
// it in-process. Exit codes: 0 success, 2 usage or input errors; subcommands add their own
// (lincheck: 1 not linearizable, 3 unknown).
//
// This file must not hold a subcommand's logic: each lives in its own module.

import { suggest } from "./diagnostics.js";

/** Where the CLI writes. Each call gets complete text (with its newlines). */
export interface CliIO {
  stdout(s: string): void;
  stderr(s: string): void;
}

interface Command {
  /** One line for the command list. */
  readonly summary: string;
  /**
   * Loads the command's module: only the command that runs is loaded, so `raftgen status`
   * does not pay for ts-morph and `raftgen build` not for gRPC.
   */
  load(): Promise<{ usage: string; run(args: string[], io: CliIO): Promise<number> }>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  build: {
    summary: "validate a spec and generate the typed service (generated/)",
    load: async () => {
      const m = await import("./build-command.js");
      return { usage: m.BUILD_USAGE, run: m.buildCommand };
    },
  },
  call: {
    summary: "call one command or query of a running service, JSON in and out",
    load: async () => {
      const m = await import("./call-command.js");
      return { usage: m.CALL_USAGE, run: m.callCommand };
    },
  },
  cluster: {
    summary: "build if needed and run a local N-node cluster of a project (separate processes)",
    load: async () => {
      const m = await import("./cluster-command.js");
      return { usage: m.CLUSTER_USAGE, run: (args, io) => m.clusterCommand(args, io) };
    },
  },
  init: {
    summary: "scaffold a project from an example (counter, lock, placement-center)",
    load: async () => {
      const m = await import("./init-command.js");
      return { usage: m.INIT_USAGE, run: m.initCommand };
    },
  },
  lincheck: {
    summary: "check a recorded history for linearizability",
    load: async () => {
      const m = await import("./lincheck-command.js");
      return { usage: m.LINCHECK_USAGE, run: m.lincheckCommand };
    },
  },
  status: {
    summary: "show the role, term, commit, applied index and lag of each node",
    load: async () => {
      const m = await import("./status-command.js");
      return { usage: m.STATUS_USAGE, run: m.statusCommand };
    },
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
    const sub = name === "help" && rest[0] !== undefined && Object.hasOwn(COMMANDS, rest[0]) ? COMMANDS[rest[0]] : undefined;
    io.stdout(sub === undefined ? usage() : `${(await sub.load()).usage}\n`);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    const hint = suggest(name, Object.keys(COMMANDS));
    io.stderr(`raftgen: unknown command ${JSON.stringify(name)}${hint ? `; did you mean ${JSON.stringify(hint)}?` : ""}\n\n${usage()}`);
    return 2;
  }
  return (await command.load()).run(rest, io);
}
