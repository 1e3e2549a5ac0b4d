// RaftClient: the base client of a raftgen service (DESIGN: runtime/client). It knows a list
// of endpoints, finds the leader, follows NotLeader hints, retries with backoff only where
// it is safe, and bounds every call with a deadline.
//
// Safety of retries:
// - queries are reads: always safe to retry;
// - commands with a session (clientId, seq): the cluster applies a given (clientId, seq) at
//   most once and returns the first outcome to a retry, so retrying is safe;
// - commands without a session are retried only on errors that prove nothing was proposed
//   (NotLeader from a node that refused it before proposing, or a connection that never
//   reached a server); a Timeout or a broken connection mid-call is returned to the caller.
//
// Generated clients are thin typed wrappers over `command` and `query`.

import { randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { NodeError, type NodeErrorCode } from "../node/errors.js";
import { adminDefinition, stateMachineDefinition } from "../server/definitions.js";
import { CLUSTER_ID_METADATA, CODE_METADATA, LEADER_ADDRESS_METADATA, LEADER_ID_METADATA } from "../server/status-codes.js";

export interface ClientOptions {
  /** host:port of some (or all) nodes. */
  endpoints: string[];
  /** Deadline of one call, all retries included. Default 10 000 ms. */
  deadlineMs?: number;
  /** Use an exactly-once session for commands (default true). */
  session?: boolean;
  /** Session id; default a random UUID. */
  clientId?: string;
  /** First retry delay; doubles up to 1 s. Default 25 ms. */
  backoffMs?: number;
  /**
   * The cluster this client means to talk to. When set, every call names it (metadata
   * x-raftgen-cluster-id) and a node of another cluster refuses it with FailedPrecondition.
   */
  clusterId?: string;
  /** Extra @grpc/grpc-js channel options (e.g. `grpc.use_local_subchannel_pool` for a connection of its own). */
  channelOptions?: Readonly<Record<string, string | number>>;
}

export type Consistency = "linearizable" | "lease" | "stale";

export interface CallResult {
  output: Uint8Array;
  index: number;
}

const KNOWN_CODES = new Set<NodeErrorCode>(["NotLeader", "Timeout", "Dropped", "CommandFailed", "InvalidArgument", "FailedPrecondition", "Stopped"]);

/** Rebuild the server's typed error from a gRPC status (with the caller's stack). */
export function fromStatus(err: grpc.ServiceError): NodeError {
  const code = err.metadata?.get(CODE_METADATA)[0]?.toString() as NodeErrorCode | undefined;
  const leaderId = Number(err.metadata?.get(LEADER_ID_METADATA)[0]?.toString() ?? 0);
  const leaderAddress = err.metadata?.get(LEADER_ADDRESS_METADATA)[0]?.toString() ?? "";
  const details = { ...(leaderId ? { leaderId } : {}), ...(leaderAddress ? { leaderAddress } : {}) };
  if (code && KNOWN_CODES.has(code)) return new NodeError(code, err.details || err.message, details, { cause: err });
  switch (err.code) {
    case grpc.status.DEADLINE_EXCEEDED:
      return new NodeError("Timeout", err.details || "deadline exceeded", details, { cause: err });
    case grpc.status.INVALID_ARGUMENT:
      return new NodeError("InvalidArgument", err.details, details, { cause: err });
    case grpc.status.FAILED_PRECONDITION:
      return new NodeError("FailedPrecondition", err.details, details, { cause: err });
    default:
      return new NodeError("Stopped", `${grpc.status[err.code] ?? err.code}: ${err.details || err.message}`, details, { cause: err });
  }
}

/** A connection failure that never reached a server (nothing was proposed). */
function neverReached(err: grpc.ServiceError): boolean {
  return err.code === grpc.status.UNAVAILABLE && !err.metadata?.get(CODE_METADATA).length && /connect|No connection|ECONNREFUSED|Name resolution/i.test(err.details ?? "");
}

export class RaftClient {
  private readonly endpoints: string[];
  private readonly clients = new Map<string, grpc.Client>();
  private current = 0;
  /**
   * Sessions in lanes: the cluster's exactly-once rule is "a sequence not above the last one
   * applied for this client id is a retry", so each lane has at most one command in flight
   * and concurrent commands use different lanes (`<clientId>/<lane>`).
   */
  private readonly idleLanes: { id: string; seq: number }[] = [];
  private lanes = 0;
  readonly clientId: string;
  private readonly deadlineMs: number;
  private readonly useSession: boolean;
  private readonly backoffMs: number;
  private readonly clusterId: string | undefined;
  private readonly channelOptions: Readonly<Record<string, string | number>>;

  constructor(opts: ClientOptions) {
    if (opts.endpoints.length === 0) throw new Error("RaftClient needs at least one endpoint");
    this.endpoints = [...opts.endpoints];
    this.deadlineMs = opts.deadlineMs ?? 10_000;
    this.useSession = opts.session ?? true;
    this.clientId = opts.clientId ?? randomUUID();
    this.backoffMs = opts.backoffMs ?? 25;
    this.clusterId = opts.clusterId;
    this.channelOptions = opts.channelOptions ?? {};
  }

  /** The endpoint the next call goes to (the leader, once discovered). */
  endpoint(): string {
    return this.endpoints[this.current]!;
  }

  /** Run a command (a replicated write). */
  async command(name: string, payload: Uint8Array): Promise<CallResult> {
    const lane = this.useSession ? (this.idleLanes.pop() ?? { id: `${this.clientId}/${this.lanes++}`, seq: 0 }) : undefined;
    const session = lane ? { client_id: lane.id, sequence: ++lane.seq } : { client_id: "", sequence: 0 };
    try {
      const r = (await this.call(stateMachineDefinition, "Command", { command: name, payload, ...session }, lane !== undefined)) as {
        payload: Uint8Array;
        index: string;
      };
      return { output: r.payload, index: Number(r.index) };
    } finally {
      // A lane whose last command has an unknown outcome is still safe to reuse: its next
      // sequence is higher, and the unknown one can never be applied after it.
      if (lane) this.idleLanes.push(lane);
    }
  }

  /** Run a query with the given consistency (default linearizable). */
  query(name: string, payload: Uint8Array, consistency: Consistency = "linearizable"): Promise<CallResult> {
    return this.call(stateMachineDefinition, "Query", { query: name, payload, consistency }, true).then((r) => {
      const reply = r as { payload: Uint8Array; index: string };
      return { output: reply.payload, index: Number(reply.index) };
    });
  }

  /** Call an admin method (Status, AddNode, AddLearner, Promote, RemoveNode, TransferLeader). */
  admin(method: string, request: object, opts: { endpoint?: string; retry?: boolean } = {}): Promise<unknown> {
    if (opts.endpoint) {
      // One node, no retries; errors are typed like every other call's.
      return this.once(opts.endpoint, adminDefinition, method, request, Date.now() + this.deadlineMs).catch((err: unknown) => {
        throw err instanceof NodeError ? err : fromStatus(err as grpc.ServiceError);
      });
    }
    return this.call(adminDefinition, method, request, opts.retry ?? method === "Status");
  }

  private client(address: string): grpc.Client {
    let c = this.clients.get(address);
    if (!c) {
      c = new grpc.Client(address, grpc.credentials.createInsecure(), {
        "grpc.keepalive_time_ms": 10_000,
        "grpc.keepalive_timeout_ms": 5_000,
        "grpc.initial_reconnect_backoff_ms": 50,
        "grpc.max_reconnect_backoff_ms": 1_000,
        ...this.channelOptions,
      });
      this.clients.set(address, c);
    }
    return c;
  }

  private once(address: string, def: grpc.ServiceDefinition, method: string, request: object, deadline: number): Promise<unknown> {
    const m = def[method];
    if (!m) return Promise.reject(new NodeError("InvalidArgument", `unknown method ${method}`));
    const metadata = new grpc.Metadata();
    if (this.clusterId !== undefined) metadata.set(CLUSTER_ID_METADATA, this.clusterId);
    return new Promise((resolve, reject) => {
      const call = this.client(address).makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, request, metadata, { deadline }, (err, reply) => {
        if (err) reject(err);
        else resolve(reply);
      });
      // A follower that forwarded our command names the leader: go there next time.
      call.on("metadata", (md: grpc.Metadata) => {
        const leader = md.get(LEADER_ADDRESS_METADATA)[0]?.toString();
        if (leader) this.moveTo(leader);
      });
    });
  }

  private async call(def: grpc.ServiceDefinition, method: string, request: object, retrySafe: boolean): Promise<unknown> {
    const deadline = Date.now() + this.deadlineMs;
    let delay = this.backoffMs;
    let lastError: NodeError | undefined;
    for (let attempt = 0; ; attempt++) {
      const address = this.endpoint();
      try {
        return await this.once(address, def, method, request, deadline);
      } catch (raw) {
        const err = raw as grpc.ServiceError;
        const typed = fromStatus(err);
        lastError = typed;
        const hinted = typed.code === "NotLeader" && typed.details.leaderAddress;
        if (hinted) this.moveTo(typed.details.leaderAddress!);
        else if (typed.code === "NotLeader" || typed.code === "Stopped") this.rotate();
        // What may be retried: see the file comment.
        const proposedNothing = typed.code === "NotLeader" || neverReached(err);
        const retryable =
          typed.code === "NotLeader" || typed.code === "Stopped" || typed.code === "Timeout" || typed.code === "Dropped";
        if (!retryable || !(retrySafe || proposedNothing)) throw typed;
        if (Date.now() + delay >= deadline) throw new NodeError("Timeout", `no answer within ${this.deadlineMs} ms (last: ${lastError.message})`, lastError.details, { cause: lastError });
        if (!hinted || attempt > 0) {
          await new Promise((r) => setTimeout(r, delay / 2 + Math.random() * (delay / 2)));
          delay = Math.min(1_000, delay * 2);
        }
      }
    }
  }

  private moveTo(address: string): void {
    let i = this.endpoints.indexOf(address);
    if (i < 0) {
      this.endpoints.push(address);
      i = this.endpoints.length - 1;
    }
    this.current = i;
  }

  private rotate(): void {
    this.current = (this.current + 1) % this.endpoints.length;
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
