// `raftgen lincheck`: read a history file, check it against a model, print the verdict.
//
// Exit codes: 0 linearizable, 1 not linearizable (with an explanation: the partition and the
// shortest prefix that cannot be linearized), 2 bad usage or unreadable input (with the file
// and line), 3 unknown (a partition's search ran out of the time budget). The budget defaults
// to DEFAULT_TIMEOUT_MS so the command never hangs; the checker enforces it inside its search
// loop.
//
// This file must not implement checking or parsing: it wires runtime/testing/lincheck to the
// command line.

import { readFile } from "node:fs/promises";
import {
  checkHistory,
  describeCheckResult,
  HISTORY_FORMATS,
  inferFormat,
  isHistoryParseError,
  kvModel,
  parseHistory,
  registerModel,
  type AnyModel,
  type HistoryFormat,
} from "../runtime/testing/lincheck/index.js";
import type { CliIO } from "./cli.js";
import { parseCommandArgs } from "./cli-args.js";

/** Default time budget of one `lincheck` run, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 60_000;

const MODELS: Readonly<Record<string, AnyModel>> = { register: registerModel, kv: kvModel };

export const LINCHECK_USAGE = [
  "usage: raftgen lincheck --model register|kv [--format jepsen-log|edn-lines|json] [--timeout-ms N] <file>",
  "",
  "  --model       register: one register with read/write/cas, starting absent (Jepsen etcd tests)",
  "                kv: string map with get/put/append, checked per key",
  "  --format      history format; inferred from the content and extension when omitted",
  `  --timeout-ms  time budget for the search (default ${DEFAULT_TIMEOUT_MS}; 0 = no limit)`,
  "",
  "exit status: 0 linearizable, 1 not linearizable, 2 bad usage or unreadable input, 3 unknown (time budget)",
].join("\n");

/** Runs `raftgen lincheck` with the arguments after the subcommand name. */
export async function lincheckCommand(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs("lincheck", LINCHECK_USAGE, args, { model: { type: "string" }, format: { type: "string" }, "timeout-ms": { type: "string" } }, io);
  if (typeof parsed === "number") return parsed;
  const { values, positionals, usageError } = parsed;
  if (values.model === undefined) return usageError("--model is required");
  const model = Object.hasOwn(MODELS, values.model) ? MODELS[values.model] : undefined;
  if (model === undefined) {
    return usageError(`unknown model ${JSON.stringify(values.model)} (expected ${Object.keys(MODELS).join(" or ")})`);
  }
  let format: HistoryFormat | undefined;
  if (values.format !== undefined) {
    if (!(HISTORY_FORMATS as readonly string[]).includes(values.format)) {
      return usageError(`unknown format ${JSON.stringify(values.format)} (expected ${HISTORY_FORMATS.join(", ")})`);
    }
    format = values.format as HistoryFormat;
  }
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  if (values["timeout-ms"] !== undefined) {
    const t = values["timeout-ms"];
    if (!/^\d+$/.test(t)) return usageError(`--timeout-ms must be a non-negative integer, got ${JSON.stringify(t)}`);
    timeoutMs = Number(t);
  }
  if (positionals.length !== 1) {
    return usageError(positionals.length === 0 ? "missing history file" : "expected exactly one history file");
  }
  const file = positionals[0]!;

  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    io.stderr(`raftgen lincheck: cannot read ${file}: ${(err as Error).message}\n`);
    return 2;
  }
  format ??= inferFormat(text, file);
  if (format === undefined) {
    io.stderr(`raftgen lincheck: ${file}: cannot tell the history format; pass --format ${HISTORY_FORMATS.join("|")}\n`);
    return 2;
  }

  let result;
  try {
    const records = parseHistory(text, format);
    result = checkHistory(model, records, timeoutMs === 0 ? {} : { timeoutMs });
  } catch (err) {
    if (isHistoryParseError(err)) {
      const at = err.line === undefined ? "" : `${err.line}:`;
      io.stderr(`raftgen lincheck: ${file}:${at} ${err.detail} (format ${format}, model ${model.name})\n`);
      return 2;
    }
    throw err;
  }
  io.stdout(describeCheckResult(model, result, { timeoutMs, dropped: result.dropped }));
  switch (result.verdict) {
    case "linearizable":
      return 0;
    case "not-linearizable":
      return 1;
    case "unknown":
      return 3;
  }
}
