// `raftgen call --spec <raft.yaml> --endpoints host:port,... <command|query> ['<json>']`: call
// one command or query of a running service, JSON in and out (like grpcurl, but it knows the
// spec). The spec and its raft.lock.json are read as `raftgen build` reads them (specModel,
// no emitter), so the field numbers are those the cluster was built with.
//
// Input and output follow the proto3 JSON mapping (runtime/codegen-v1 fromJson / toJson):
// field names in snake_case or lowerCamelCase, 64-bit integers as decimal strings (on input
// also as JSON numbers, exact: an integer literal beyond 2^53 is read from its text, never
// rounded), enums by name, bytes as base64, maps as objects. No input argument means `{}`; a
// command without output prints `{}`. The call goes through ServiceClient (RaftClient): it
// follows leader hints, retries only where safe, and uses an exactly-once session unless
// --no-session.
//
// Exit codes: 0 the call succeeded (its output on stdout); 1 the spec has problems (printed as
// file:line:col: message), an unknown command or query (with a suggestion), input that is not
// JSON (with its position) or does not fit the input message (`InvalidArgument: field "x":
// ...`), or the call failed (`<Code>: <message>` on stderr: NotLeader, Timeout, Dropped,
// CommandFailed with the handler's message, InvalidArgument, FailedPrecondition, Stopped);
// 2 bad usage (including --consistency on a command) or an unreadable spec file.
//
// This file wires the spec front end and ServiceClient to the command line.

import { readFile, stat } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";
import { isNodeError } from "../runtime/node/errors.js";
import { CodecError, type CompiledService, compileService } from "../runtime/codegen-v1/codec.js";
import { ServiceClient } from "../runtime/codegen-v1/client.js";
import type { MethodDescriptor, ServiceDescriptor } from "../runtime/codegen-v1/descriptor.js";
import type { CliIO } from "./cli.js";
import { parseCommandArgs } from "./cli-args.js";
import { descriptorOf } from "./descriptor.js";
import { formatIssues, suggest } from "./diagnostics.js";
import { specModel } from "./spec-model.js";
import { parseEndpoints, parseTimeoutMs } from "./status.js";
import { raftgenPackage } from "./version.js";

export const CALL_USAGE = [
  "usage: raftgen call --spec <raft.yaml> --endpoints host:port,... [options] <command|query> ['<json input>']",
  "",
  "  --spec         the service's spec (its raft.lock.json is read from beside it); a project directory works too",
  "  --endpoints    gRPC addresses of some or all nodes (comma-separated); leader hints are followed",
  "  --consistency  linearizable|lease|stale, for queries only (default: the spec's, else linearizable)",
  "  --timeout-ms   deadline of the call, retries included (default 10000)",
  "  --no-session   send a command without an exactly-once session (then it is retried only when",
  "                 it certainly was not proposed)",
  "  --verbose      also say on stderr which endpoint the client ended at (the leader, after a hint)",
  "",
  "The input is proto3 JSON (default {}): snake_case or lowerCamelCase names, 64-bit integers as",
  "strings or exact numbers, enums by name, bytes as base64. The output is printed the same way,",
  "64-bit integers as strings.",
  "",
  "exit status: 0 success, 1 spec problems, unknown method, bad input or a failed call, 2 bad usage",
].join("\n");

const DEFAULT_CALL_TIMEOUT_MS = 10_000;
const CONSISTENCIES = ["linearizable", "lease", "stale"] as const;
const MAX_JSON_DEPTH = 100;

// ---------------------------------------------------------------------------------------
// JSON input: a strict RFC 8259 parser that says where a mistake is (line, column, offset) on
// every Node version, and keeps integer literals beyond 2^53 exact.

/** An integer literal too large for a JS number to hold exactly; settled against the schema. */
class BigLiteral {
  constructor(readonly text: string) {}
}

export class JsonInputError extends Error {
  override readonly name = "JsonInputError";
  constructor(
    readonly offset: number,
    readonly line: number,
    readonly column: number,
    readonly detail: string,
  ) {
    super(`line ${line}, column ${column} (offset ${offset}): ${detail}`);
  }
}

/** Parse JSON text; big integer literals come back as BigLiteral. Throws JsonInputError. */
function parseJsonText(text: string): unknown {
  let i = 0;
  const fail = (detail: string, at = i): never => {
    const before = text.slice(0, at);
    const line = before.split("\n").length;
    const column = at - (before.lastIndexOf("\n") + 1) + 1;
    throw new JsonInputError(at, line, column, detail);
  };
  const found = () => (i >= text.length ? "the end of the input" : `${JSON.stringify(text[i])}`);
  const ws = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
  };
  const value = (depth: number): unknown => {
    if (depth > MAX_JSON_DEPTH) fail(`nested deeper than ${MAX_JSON_DEPTH} levels`);
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const obj: Record<string, unknown> = {};
      ws();
      if (text[i] === "}") {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`expected a property name in double quotes, found ${found()}`);
        const keyAt = i;
        const key = string();
        if (Object.hasOwn(obj, key)) fail(`duplicate key ${JSON.stringify(key)}`, keyAt);
        ws();
        if (text[i] !== ":") fail(`expected ':' after the property name, found ${found()}`);
        i++;
        // defineProperty: a "__proto__" key is data, not the prototype.
        Object.defineProperty(obj, key, { value: value(depth + 1), enumerable: true, writable: true, configurable: true });
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return obj;
        }
        fail(`expected ',' or '}' after a property value, found ${found()}`);
      }
    }
    if (c === "[") {
      i++;
      const arr: unknown[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return arr;
        }
        fail(`expected ',' or ']' after an array element, found ${found()}`);
      }
    }
    if (c === '"') return string();
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) {
      const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 1000));
      if (!m || m[0] === "-") fail(`bad number`);
      const literal = m![0];
      const after = text[i + literal.length];
      if (after !== undefined && /[0-9.eE+-]/.test(after)) fail(`bad number`, i + literal.length);
      i += literal.length;
      const n = Number(literal);
      if (m![2] === undefined && m![3] === undefined && !Number.isSafeInteger(n)) return new BigLiteral(literal);
      return n;
    }
    for (const [word, v] of [
      ["true", true],
      ["false", false],
      ["null", null],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    return fail(`expected a JSON value, found ${found()}`);
  };
  const string = (): string => {
    i++; // opening quote
    let out = "";
    for (;;) {
      if (i >= text.length) fail("unterminated string");
      const c = text[i]!;
      if (c === '"') {
        i++;
        return out;
      }
      if (c === "\\") {
        const e = text[i + 1];
        const simple: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
        if (e !== undefined && Object.hasOwn(simple, e)) {
          out += simple[e];
          i += 2;
        } else if (e === "u" && /^[0-9A-Fa-f]{4}$/.test(text.slice(i + 2, i + 6))) {
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
        } else {
          fail("bad escape sequence in a string");
        }
        continue;
      }
      if (c < " ") fail("a control character in a string must be escaped");
      out += c;
      i++;
    }
  };
  const v = value(0);
  ws();
  if (i < text.length) fail(`unexpected ${found()} after the JSON value`);
  return v;
}

const INTEGER_TYPES = new Set(["int32", "uint32", "int64", "uint64"]);

/**
 * Replace each BigLiteral: in an integer field by its exact decimal text (the codec range-checks
 * it), elsewhere by the JS number (the codec then says what is wrong with it).
 */
function settle(v: unknown, type: string | undefined, desc: ServiceDescriptor): unknown {
  if (v instanceof BigLiteral) return type !== undefined && INTEGER_TYPES.has(type) ? v.text : Number(v.text);
  if (Array.isArray(v)) return v.map((x) => settle(x, type, desc));
  if (typeof v !== "object" || v === null) return v;
  const obj = v as Record<string, unknown>;
  const msg = type !== undefined && Object.hasOwn(desc.messages, type) ? desc.messages[type] : undefined;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj)) {
    const f = msg?.fields.find((x) => x.name === key || x.ts === key);
    let value = obj[key];
    if (f?.map && typeof value === "object" && value !== null && !Array.isArray(value)) {
      const entries = value as Record<string, unknown>;
      const m: Record<string, unknown> = {};
      for (const k of Object.keys(entries)) Object.defineProperty(m, k, { value: settle(entries[k], f.type, desc), enumerable: true, writable: true, configurable: true });
      value = m;
    } else {
      value = settle(value, f?.type, desc);
    }
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * The JSON input of message `message` of the service: parsed (JsonInputError with the position
 * of a syntax error) and settled (exact big integers); fromJson does the rest.
 */
export function parseJsonInput(text: string, message: string, desc: ServiceDescriptor): unknown {
  return settle(parseJsonText(text), message, desc);
}

// ---------------------------------------------------------------------------------------

interface Found {
  kind: "command" | "query";
  name: string;
  method: MethodDescriptor;
}

/** A method by its snake_case name, its camelCase (TypeScript) name or its PascalCase rpc name. */
function findMethod(service: CompiledService, name: string): Found | undefined {
  for (const [kind, methods] of [
    ["command", service.commands],
    ["query", service.queries],
  ] as const) {
    for (const [snake, m] of methods) if (snake === name || m.ts === name || m.rpc === name) return { kind, name: snake, method: m };
  }
  return undefined;
}

function listMethods(service: CompiledService): string {
  const names = (m: ReadonlyMap<string, unknown>) => [...m.keys()].join(", ") || "none";
  return `commands: ${names(service.commands)}; queries: ${names(service.queries)}`;
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Runs `raftgen call` with the arguments after the subcommand name. */
export async function callCommand(args: string[], io: CliIO): Promise<number> {
  const fail = (message: string): number => {
    io.stderr(`${message}\n`);
    return 1;
  };
  const parsed = parseCommandArgs(
    "call",
    CALL_USAGE,
    args,
    {
      spec: { type: "string" },
      endpoints: { type: "string", multiple: true },
      consistency: { type: "string" },
      "timeout-ms": { type: "string" },
      "no-session": { type: "boolean" },
      verbose: { type: "boolean", short: "v" },
    },
    io,
  );
  if (typeof parsed === "number") return parsed;
  const { values, positionals, usageError } = parsed;
  if (values.spec === undefined) return usageError("--spec is required");
  if (values.endpoints === undefined) return usageError("--endpoints is required");
  const eps = parseEndpoints(values.endpoints);
  if ("error" in eps) return usageError(eps.error);
  const timeout = parseTimeoutMs(values["timeout-ms"], DEFAULT_CALL_TIMEOUT_MS);
  if ("error" in timeout) return usageError(timeout.error);
  const consistency = values.consistency;
  if (consistency !== undefined && !(CONSISTENCIES as readonly string[]).includes(consistency)) {
    return usageError(`--consistency must be ${CONSISTENCIES.join(", ")}, got ${JSON.stringify(consistency)}`);
  }
  if (positionals.length === 0) return usageError("missing the command or query to call");
  if (positionals.length > 2) return usageError(`expected a command or query and one JSON input, got ${positionals.length} arguments (quote the JSON)`);
  const [methodName, inputText = "{}"] = positionals as [string, string | undefined];

  // The spec, as `raftgen build` reads it.
  let specPath = resolve(values.spec);
  let text: string;
  let lockText: string | undefined;
  const lockPath = () => join(dirname(specPath), "raft.lock.json");
  try {
    if ((await stat(specPath)).isDirectory()) specPath = join(specPath, "raft.yaml");
    text = await readFile(specPath, "utf8");
    lockText = await readIfExists(lockPath());
  } catch (err) {
    io.stderr(`raftgen call: cannot read the spec: ${(err as Error).message}\n`);
    return 2;
  }
  const shown = (p: string) => relative(process.cwd(), p) || p;
  const result = specModel(text, { specFile: basename(specPath), ...(lockText !== undefined ? { lockText } : {}), version: raftgenPackage().version });
  if (!result.model) {
    const specIssues = result.issues.filter((i) => !i.lock);
    const lockIssues = result.issues.filter((i) => i.lock);
    if (specIssues.length) io.stderr(formatIssues(specIssues, shown(specPath), text));
    if (lockIssues.length) io.stderr(formatIssues(lockIssues, shown(lockPath()), lockText ?? ""));
    return 1;
  }
  const desc = descriptorOf(result.model);
  const service = compileService(desc);

  const found = findMethod(service, methodName);
  if (!found) {
    const candidates = [...service.commands.keys(), ...service.queries.keys()];
    const hint = suggest(methodName, candidates) ?? suggest(methodName.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase(), candidates);
    return fail(
      `raftgen call: unknown command or query ${JSON.stringify(methodName)}${hint ? `; did you mean ${JSON.stringify(hint)}?` : ` (${desc.service} has ${listMethods(service)})`}`,
    );
  }
  if (found.kind === "command" && consistency !== undefined) {
    return usageError(`--consistency applies to queries; ${JSON.stringify(found.name)} is a command (commands are always applied in log order)`);
  }

  let input: unknown;
  try {
    input = service.fromJson(found.method.input, parseJsonInput(inputText, found.method.input, desc));
  } catch (err) {
    if (err instanceof JsonInputError) return fail(`raftgen call: malformed JSON input at ${err.message}`);
    if (err instanceof CodecError) return fail(`InvalidArgument: ${err.message}`);
    throw err;
  }

  const client = new ServiceClient(service, { endpoints: eps.endpoints, deadlineMs: timeout.timeoutMs, session: !values["no-session"] });
  try {
    const output =
      found.kind === "command"
        ? await client.command<Record<string, unknown> | undefined>(found.name, input)
        : await client.query<Record<string, unknown>>(found.name, input, consistency !== undefined ? { consistency: consistency as (typeof CONSISTENCIES)[number] } : {});
    const json = output === undefined ? {} : service.toJson(found.method.output, output);
    io.stdout(`${JSON.stringify(json, null, 2)}\n`);
    // Where the client ended up: the leader, once a hint was followed.
    if (values.verbose) io.stderr(`raftgen call: ${found.kind} ${found.name} done; current endpoint ${client.raw.endpoint()}\n`);
    return 0;
  } catch (err) {
    if (isNodeError(err)) return fail(`${err.code}: ${err.message.replace(/\s*\n\s*/g, " ")}`);
    if (err instanceof CodecError) return fail(`InvalidArgument: ${err.message}`);
    return fail(`raftgen call: ${(err as Error).message}`);
  } finally {
    client.close();
  }
}
