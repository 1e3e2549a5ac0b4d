// The StateMachine of a generated service: runtime/node's interface implemented over the
// user's typed handlers and the service's CompiledService. apply() decodes the command's
// input, hands the handler `{ state, entry }` (typed tables over the command's transaction,
// and the entry's index, term and proposer-chosen timestamp), and encodes what it returns;
// query() does the same with read-only tables.
//
// Handlers are synchronous (DESIGN). The generated types already make an async handler a
// compile error; here a returned Promise (any thenable) is refused at run time too: the
// command fails, its writes are dropped, and its tables stop working for whatever the async
// function does later. A handler that throws fails its command on every node alike and
// changes nothing (the node drops the transaction).
//
// This module does no I/O; it must stay deterministic (no clock, no randomness).

import type { Transaction, ReadView, StateMachine, EntryInfo as NodeEntryInfo } from "../node/state-machine.js";
import type { CompiledService } from "./codec.js";
import type { MethodDescriptor } from "./descriptor.js";
import { type TableScope, createState } from "./table.js";

/** What a command handler learns of the log entry that carries its command. */
export interface EntryInfo {
  /** Log index of the entry. */
  readonly index: number;
  /** Term of the entry. */
  readonly term: number;
  /** Chosen once by the proposer (ms since the epoch): the same on every node. Use it, never Date.now(). */
  readonly timestamp: number;
}

/** The second argument of a command handler: the service's tables (read-write) and the entry. */
export interface CommandContext<S> {
  readonly state: S;
  readonly entry: EntryInfo;
}

/** The second argument of a query handler: the service's tables, read-only. */
export interface QueryContext<S> {
  readonly state: S;
}

/**
 * The handlers object, as generated `Handlers` types describe it: `commands` and `queries`
 * hold one function per method, under the method's `ts` (camelCase) name.
 */
export interface ServiceHandlers {
  readonly commands: object;
  readonly queries: object;
}

type HandlerFn = (input: unknown, ctx: unknown) => unknown;

const EMPTY = new Uint8Array(0);

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === "object" || typeof v === "function") && v !== null && typeof (v as { then?: unknown }).then === "function";
}

/** Look up every handler once, so that a missing one fails at start-up, not at the first call. */
function resolveHandlers(methods: ReadonlyMap<string, MethodDescriptor>, group: object, kind: "commands" | "queries"): Map<string, HandlerFn> {
  if (typeof group !== "object" || group === null) throw new TypeError(`handlers.${kind} must be an object`);
  const out = new Map<string, HandlerFn>();
  for (const [name, m] of methods) {
    const fn = (group as Record<string, unknown>)[m.ts];
    if (typeof fn !== "function") {
      throw new TypeError(`handlers.${kind}.${m.ts} is ${fn === undefined ? "missing" : "not a function"} (${kind === "commands" ? "command" : "query"} "${name}" of the spec)`);
    }
    out.set(name, (input, ctx) => (fn as HandlerFn).call(group, input, ctx));
  }
  return out;
}

class ServiceStateMachine implements StateMachine {
  readonly tables: readonly string[];
  private readonly commandFns: Map<string, HandlerFn>;
  private readonly queryFns: Map<string, HandlerFn>;

  constructor(
    private readonly service: CompiledService,
    handlers: ServiceHandlers,
  ) {
    if (typeof handlers !== "object" || handlers === null) throw new TypeError("handlers must be an object { commands, queries }");
    this.tables = [...service.tables.keys()];
    this.commandFns = resolveHandlers(service.commands, handlers.commands, "commands");
    this.queryFns = resolveHandlers(service.queries, handlers.queries ?? {}, "queries");
  }

  hasCommand(command: string): boolean {
    return this.service.commands.has(command);
  }

  hasQuery(query: string): boolean {
    return this.service.queries.has(query);
  }

  checkCommand(command: string, payload: Uint8Array): void {
    this.service.decode(this.method("command", command).input, payload);
  }

  checkQuery(query: string, payload: Uint8Array): void {
    this.service.decode(this.method("query", query).input, payload);
  }

  apply(command: string, payload: Uint8Array, tx: Transaction, entry: NodeEntryInfo): Uint8Array {
    const m = this.method("command", command);
    const input = this.service.decode(m.input, payload);
    const scope: TableScope = { open: true };
    const ctx: CommandContext<unknown> = Object.freeze({
      state: createState(this.service, { tx }, scope),
      entry: Object.freeze({ index: entry.index, term: entry.term, timestamp: entry.timestamp }),
    });
    return this.run("commands", command, m, () => this.commandFns.get(command)!(input, ctx), scope);
  }

  query(query: string, payload: Uint8Array, view: ReadView): Uint8Array {
    const m = this.method("query", query);
    const input = this.service.decode(m.input, payload);
    const scope: TableScope = { open: true };
    const ctx: QueryContext<unknown> = Object.freeze({ state: createState(this.service, { view }, scope) });
    return this.run("queries", query, m, () => this.queryFns.get(query)!(input, ctx), scope);
  }

  private method(kind: "command" | "query", name: string): MethodDescriptor {
    const m = (kind === "command" ? this.service.commands : this.service.queries).get(name);
    if (!m) throw new Error(`unknown ${kind} ${JSON.stringify(name)}`);
    return m;
  }

  /** Call a handler, refuse a Promise, encode its output. */
  private run(kind: "commands" | "queries", name: string, m: MethodDescriptor, call: () => unknown, scope: TableScope): Uint8Array {
    let result: unknown;
    try {
      result = call();
    } finally {
      scope.open = false;
    }
    const handler = `handler ${kind}.${m.ts}`;
    if (isThenable(result)) {
      // Keep a later rejection from becoming an unhandled rejection (which would stop the process).
      Promise.resolve(result).catch(() => undefined);
      throw new Error(`${handler} returned a Promise: handlers must be synchronous (no async, no await)`);
    }
    if (!m.hasOutput) return EMPTY;
    if (result === undefined) throw new Error(`${handler} returned undefined; ${kind === "commands" ? "command" : "query"} ${name} must return a ${m.output}`);
    try {
      return this.service.encode(m.output, result);
    } catch (err) {
      throw new Error(`${handler} returned a bad ${m.output}: ${(err as Error).message}`, { cause: err });
    }
  }
}

/**
 * The StateMachine of a generated service over the user's handlers. Throws (at start-up) when
 * a handler of the service is missing.
 */
export function createServiceStateMachine(service: CompiledService, handlers: ServiceHandlers): StateMachine {
  return new ServiceStateMachine(service, handlers);
}
