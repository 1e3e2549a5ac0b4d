// The argument handling every subcommand shares: node:util parseArgs in strict mode with
// positionals, a --help/-h that prints the command's usage (exit 0), and usage errors printed
// as `raftgen <command>: <message>` followed by the usage (exit 2).
//
// This module does no I/O beyond writing to the CliIO it is given.

import { type ParseArgsConfig, parseArgs } from "node:util";
import type { CliIO } from "./cli.js";

type Options = NonNullable<ParseArgsConfig["options"]>;
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O & { help: { type: "boolean"; short: "h" } }; allowPositionals: true; strict: true }>>;

export interface CommandArgs<O extends Options> {
  values: Parsed<O>["values"];
  positionals: string[];
  /** Prints `raftgen <command>: <message>` and the usage on stderr; returns exit code 2. */
  usageError(message: string): number;
}

/**
 * Parses a subcommand's arguments. Returns the exit code instead when it is done: 0 after
 * printing the usage for --help, 2 after printing a usage error.
 */
export function parseCommandArgs<O extends Options>(command: string, usage: string, args: string[], options: O, io: CliIO): CommandArgs<O> | number {
  const usageError = (message: string): number => {
    io.stderr(`raftgen ${command}: ${message}\n${usage}\n`);
    return 2;
  };
  let parsed: Parsed<O>;
  try {
    parsed = parseArgs({ args, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true }) as Parsed<O>;
  } catch (err) {
    return usageError((err as Error).message);
  }
  if ((parsed.values as { help?: boolean }).help) {
    io.stdout(`${usage}\n`);
    return 0;
  }
  return { values: parsed.values, positionals: parsed.positionals, usageError };
}
