// ServiceClient: the client of a generated service, over runtime/client's RaftClient (leader
// discovery, safe retries, deadlines, exactly-once sessions on by default). It encodes inputs
// and decodes outputs with the service's CompiledService and calls the generic StateMachine
// service with the method's snake_case name. Generated client classes are one-line wrappers
// around command() and query().
//
// Errors are NodeErrors, as RaftClient's: an input that does not encode is refused with
// InvalidArgument before any call is made.
//
// With `{ local: stateMachine }` instead of endpoints, calls run in this process on an
// in-memory store (LocalBackend): the same client API for tests of handlers.

import { type ClientOptions, type Consistency, RaftClient } from "../client/index.js";
import { NodeError } from "../node/errors.js";
import type { CompiledService } from "./codec.js";
import type { MethodDescriptor } from "./descriptor.js";
import { LocalBackend, type LocalOptions } from "./local.js";

export type { ClientOptions, Consistency, LocalOptions };

/** Per-call options of a query. */
export interface QueryOptions {
  /** Default: the query's consistency in the spec (linearizable unless it says otherwise). */
  consistency?: Consistency;
}

const CONSISTENCIES = new Set<string>(["linearizable", "lease", "stale"]);

export class ServiceClient {
  private readonly remote: RaftClient | undefined;
  private readonly local: LocalBackend | undefined;

  constructor(
    readonly service: CompiledService,
    options: ClientOptions | LocalOptions,
  ) {
    if ("local" in options) this.local = new LocalBackend(options.local, options.clock);
    else this.remote = new RaftClient(options);
  }

  /** The underlying RaftClient (admin calls, the current endpoint, ...); a local client has none. */
  get raw(): RaftClient {
    if (!this.remote) throw new NodeError("FailedPrecondition", "a local client (created with { local }) has no RaftClient");
    return this.remote;
  }

  /** Run command `name` (snake_case, as in the spec); resolves with its output (undefined when it has none). */
  async command<O>(name: string, input: unknown): Promise<O> {
    const m = this.method("command", name);
    const payload = this.encode(m, name, input);
    const r = this.local ? this.local.command(name, payload) : await this.raw.command(name, payload);
    if (!m.hasOutput) return undefined as O;
    return this.decode<O>(m, "command", name, r.output);
  }

  /** Run query `name` (snake_case) with the given or the spec's consistency. */
  async query<O>(name: string, input: unknown, options: QueryOptions = {}): Promise<O> {
    const m = this.method("query", name);
    const consistency = options.consistency ?? m.consistency ?? "linearizable";
    if (!CONSISTENCIES.has(consistency)) {
      throw new NodeError("InvalidArgument", `consistency ${JSON.stringify(consistency)} is not linearizable, lease or stale`);
    }
    const payload = this.encode(m, name, input);
    const r = this.local ? this.local.query(name, payload) : await this.raw.query(name, payload, consistency);
    return this.decode<O>(m, "query", name, r.output);
  }

  close(): void {
    this.remote?.close();
  }

  private method(kind: "command" | "query", name: string): MethodDescriptor {
    const m = (kind === "command" ? this.service.commands : this.service.queries).get(name);
    if (!m) throw new NodeError("InvalidArgument", `service ${this.service.descriptor.service} has no ${kind} ${JSON.stringify(name)}`);
    return m;
  }

  private encode(m: MethodDescriptor, name: string, input: unknown): Uint8Array {
    try {
      return this.service.encode(m.input, input);
    } catch (err) {
      throw new NodeError("InvalidArgument", (err as Error).message, {}, { cause: err });
    }
  }

  private decode<O>(m: MethodDescriptor, kind: string, name: string, bytes: Uint8Array): O {
    try {
      return this.service.decode<O>(m.output, bytes);
    } catch (err) {
      // The cluster answered with bytes this client cannot read: built from another spec?
      throw new NodeError("FailedPrecondition", `the reply of ${kind} ${name} does not decode as ${m.output} (client and cluster built from different specs?): ${(err as Error).message}`, {}, { cause: err });
    }
  }
}
