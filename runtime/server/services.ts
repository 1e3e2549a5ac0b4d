// The gRPC services a node serves besides the transport: the generic application service
// (proto/service.proto: Command, Query), the admin service (proto/admin.proto), and the
// gateway that application services share (NodeGateway: one command path with the leader
// check and forwarding, one query path, session and consistency parsing). A spec's typed
// service (runtime/codegen-v1/grpc-service.ts) is built on the same gateway, so both take the
// same path to the log. Handlers decode and validate at this gateway, call the node, and map
// every error through toStatus: nothing a client sends can throw out of a handler.
//
// This module does no I/O of its own.

import * as grpc from "@grpc/grpc-js";
import { NodeError } from "../node/errors.js";
import type { CommandResult, Consistency, RaftNode, Session } from "../node/node.js";
import { decodeRequest, safeNumber } from "../transport/rpc.js";
import { adminRoot, serviceRoot, stateMachineDefinition } from "./definitions.js";
import { CLUSTER_ID_METADATA, LEADER_ADDRESS_METADATA, toStatus } from "./status-codes.js";

const type = (root: typeof serviceRoot, name: string) => root.lookupType(name);
const CommandRequest = type(serviceRoot, "raftgen.service.v1.CommandRequest");
const QueryRequest = type(serviceRoot, "raftgen.service.v1.QueryRequest");
const StatusRequest = type(adminRoot, "raftgen.admin.v1.StatusRequest");
const MemberRequest = type(adminRoot, "raftgen.admin.v1.MemberRequest");
const TransferLeaderRequest = type(adminRoot, "raftgen.admin.v1.TransferLeaderRequest");

/** Request metadata of typed services: the exactly-once session's client id (optional). */
export const SESSION_CLIENT_ID_METADATA = "x-raftgen-client-id";
/** Request metadata of typed services: the session's sequence (decimal, >= 1; with a client id). */
export const SESSION_SEQUENCE_METADATA = "x-raftgen-sequence";
/** Request metadata of typed services: a query's consistency (linearizable, lease or stale). */
export const CONSISTENCY_METADATA = "x-raftgen-consistency";
/** Set on calls a follower forwards to its leader, so that they are never forwarded twice. */
const FORWARDED_METADATA = "x-raftgen-forwarded";
/** Request metadata a forwarded call keeps (the rest of the call is its body). */
const FORWARDED_KEEP = [CLUSTER_ID_METADATA, SESSION_CLIENT_ID_METADATA, SESSION_SEQUENCE_METADATA];
const FORWARD_TIMEOUT_MS = 10_000;

const CONSISTENCIES = new Set<string>(["linearizable", "lease", "stale"]);

type UnaryCall = grpc.ServerUnaryCall<Buffer, unknown>;
type Unary = (call: UnaryCall, callback: grpc.sendUnaryData<unknown>) => void;
/** A handler body: the raw request bytes in, a reply (object or encoded bytes) out. */
export type UnaryHandler = (req: Buffer, call: UnaryCall) => Promise<unknown>;

/** A gRPC service to serve on a node's port: grpc-js definition plus implementation. */
export interface GrpcService {
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
}

/**
 * The unary calls a server is answering, so that stopping can wait for exactly those (and not
 * for the peers' long-lived transport streams, which never end on their own).
 */
export class InFlightCalls {
  private active = 0;
  private waiters: (() => void)[] = [];

  get count(): number {
    return this.active;
  }

  enter(): void {
    this.active++;
  }

  leave(): void {
    this.active--;
    if (this.active === 0) for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once no call is in flight. */
  drained(): Promise<void> {
    return this.active === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}

/**
 * A unary handler that never throws: errors go through toStatus (or are relayed as they are).
 * A caller that names another cluster (CLUSTER_ID_METADATA) is refused before the handler runs.
 */
function clusterUnary(clusterId: string, fn: UnaryHandler, inflight: InFlightCalls): Unary {
  return (call, callback) => {
    const claimed = call.metadata.get(CLUSTER_ID_METADATA).map((v) => v.toString());
    if (claimed.some((id) => id !== clusterId)) {
      const named = claimed.map((id) => JSON.stringify(id)).join(", ");
      callback(toStatus(new NodeError("FailedPrecondition", `cluster id mismatch: this node is in cluster ${JSON.stringify(clusterId)}, the call is for ${named}`)));
      return;
    }
    let reply: Promise<unknown>;
    inflight.enter();
    try {
      reply = fn(call.request, call);
    } catch (err) {
      reply = Promise.reject(err);
    }
    reply
      .then(
        (r) => callback(null, r),
        (err: unknown) => callback(err instanceof RelayedError ? err.status : toStatus(err)),
      )
      .finally(() => inflight.leave());
  };
}

/** A status returned by the leader for a forwarded call, passed back unchanged. */
class RelayedError extends Error {
  constructor(readonly status: grpc.ServiceError) {
    super(status.details);
  }
}

/**
 * Forwards commands that reach a follower to the leader over gRPC and relays the reply (as
 * etcd does), so any node accepts writes; a client that follows NotLeader hints, like
 * RaftClient, talks to the leader directly and skips this hop.
 */
class Forwarder {
  private readonly clients = new Map<string, grpc.Client>();

  forward(address: string, path: string, call: UnaryCall): Promise<Buffer> {
    let client = this.clients.get(address);
    if (!client) {
      client = new grpc.Client(address, grpc.credentials.createInsecure(), { "grpc.keepalive_time_ms": 10_000, "grpc.keepalive_timeout_ms": 5_000 });
      this.clients.set(address, client);
    }
    const metadata = new grpc.Metadata();
    for (const key of FORWARDED_KEEP) for (const v of call.metadata.get(key)) metadata.add(key, v);
    metadata.set(FORWARDED_METADATA, "1");
    const deadline = call.getDeadline();
    const bounded = deadline === Infinity ? Date.now() + FORWARD_TIMEOUT_MS : deadline;
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, call.request, metadata, { deadline: bounded }, (err, reply) => {
        if (err) reject(new RelayedError(err));
        else resolve(reply!);
      });
    });
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

/** How a command ended on this node: applied here (as leader), or relayed from the leader. */
export type CommandOutcome = { applied: CommandResult } | { relayed: Buffer };

/**
 * A session from its client id and sequence (decimal string or number; absent = 0);
 * undefined when there is no client id. InvalidArgument for a bad sequence, or a client id
 * without a sequence >= 1.
 */
export function parseSession(clientId: string, sequence: string | number | undefined, sequenceName: string): Session | undefined {
  const seq = sequence === undefined || sequence === "" ? 0 : safeNumber(sequence, sequenceName);
  if (clientId === "") return undefined;
  if (seq === 0) throw new NodeError("InvalidArgument", "a session (client_id) needs a sequence >= 1");
  return { clientId, seq };
}

/** A consistency name, or InvalidArgument. */
export function parseConsistency(value: string, where: string): Consistency {
  if (!CONSISTENCIES.has(value)) throw new NodeError("InvalidArgument", `${where}: consistency ${JSON.stringify(value)} is not linearizable, lease or stale`);
  return value as Consistency;
}

/**
 * What every application-facing service of a node shares: the cluster-id guard and error
 * mapping of its handlers (unary), the ONE command path (leader check, forwarding to the
 * leader, propose) and the query path. Services differ only in how they decode requests and
 * shape replies.
 */
export class NodeGateway {
  private readonly forwarder = new Forwarder();
  /** The unary calls (application and admin) this node is answering. */
  readonly inflight = new InFlightCalls();

  constructor(readonly node: RaftNode) {}

  /** A grpc-js unary handler around `fn`: cluster-id check, every error through toStatus. */
  unary(fn: UnaryHandler): Unary {
    return clusterUnary(this.node.clusterId, fn, this.inflight);
  }

  /**
   * Run a command. On the leader it is proposed and the outcome returned; on a follower the
   * call (its bytes and session metadata) is forwarded unchanged to `path` on the leader, and
   * the leader's reply relayed; the caller is told who leads (LEADER_ADDRESS_METADATA) so its
   * next calls skip the hop. A forwarded call never travels twice.
   */
  async command(call: UnaryCall, path: string, command: string, payload: Uint8Array, session: Session | undefined): Promise<CommandOutcome> {
    const node = this.node;
    if (!node.isLeader()) {
      const leader = node.leader();
      if (leader.address === "" || call.metadata.get(FORWARDED_METADATA).length > 0) {
        throw notLeader(node, leader.address === "" ? "no leader known" : "a forwarded command reached a follower");
      }
      const md = new grpc.Metadata();
      md.set(LEADER_ADDRESS_METADATA, leader.address);
      call.sendMetadata(md);
      return { relayed: await this.forwarder.forward(leader.address, path, call) };
    }
    return { applied: await node.propose(command, payload, session) };
  }

  /** Run a query on this node with the given consistency. */
  query(name: string, payload: Uint8Array, consistency: Consistency): Promise<CommandResult> {
    return this.node.query(name, payload, consistency);
  }

  close(): void {
    this.forwarder.close();
  }
}

/** The generic application service (proto/service.proto) over a gateway. */
export function stateMachineService(gateway: NodeGateway): grpc.UntypedServiceImplementation {
  return {
    Command: gateway.unary(async (bytes, call) => {
      const req = decodeRequest<{ command: string; payload: Uint8Array; client_id: string; sequence: string }>(CommandRequest, bytes);
      if (!req.command) throw new NodeError("InvalidArgument", "CommandRequest.command is empty");
      const session = parseSession(req.client_id, req.sequence, "CommandRequest.sequence");
      const r = await gateway.command(call, stateMachineDefinition.Command!.path, req.command, req.payload, session);
      return "relayed" in r ? r.relayed : { payload: r.applied.output, index: r.applied.index };
    }),
    Query: gateway.unary(async (bytes) => {
      const req = decodeRequest<{ query: string; payload: Uint8Array; consistency: string }>(QueryRequest, bytes);
      if (!req.query) throw new NodeError("InvalidArgument", "QueryRequest.query is empty");
      const consistency = parseConsistency(req.consistency || "linearizable", "QueryRequest");
      const r = await gateway.query(req.query, req.payload, consistency);
      return { payload: r.output, index: r.index };
    }),
  };
}

function notLeader(node: RaftNode, why = "membership changes go through the leader"): NodeError {
  const leader = node.leader();
  return new NodeError("NotLeader", `not the leader: ${why}`, { leaderId: leader.id, leaderAddress: leader.address });
}

export function adminService(gateway: NodeGateway, selfAddress: () => string): grpc.UntypedServiceImplementation {
  const node = gateway.node;
  const unary = (fn: UnaryHandler) => gateway.unary(fn);
  const member = (bytes: Buffer) => {
    const req = decodeRequest<{ node_id: string; address: string }>(MemberRequest, bytes);
    const id = safeNumber(req.node_id, "MemberRequest.node_id");
    if (id === 0) throw new NodeError("InvalidArgument", "MemberRequest.node_id must be >= 1");
    return { id, address: req.address };
  };
  const needsLeader = () => {
    if (!node.isLeader()) throw notLeader(node);
  };
  const confReply = (r: { output: Uint8Array }) => JSON.parse(new TextDecoder().decode(r.output)) as { voters: number[]; learners: number[] };
  return {
    Status: unary(async (bytes) => {
      decodeRequest(StatusRequest, bytes); // no fields, but bytes that do not decode are bad input
      const s = node.status();
      const leader = node.leader();
      return {
        id: s.id,
        address: selfAddress(),
        role: s.softState.raftState,
        term: s.hardState.term,
        leader: s.softState.leaderId,
        commit: s.hardState.commit,
        applied: s.applied,
        first_index: s.firstIndex,
        last_index: s.lastIndex,
        voters: s.voters,
        learners: s.learners,
        peers: s.progress.map((p) => ({
          id: p.id,
          address: node.memberAddress(p.id) ?? "",
          match: p.match,
          next: p.next,
          state: p.state,
          learner: p.isLearner,
          recent_active: p.recentActive,
        })),
        cluster_id: node.clusterId,
        leader_address: leader.address,
        snapshot_index: s.snapshotIndex,
      };
    }),
    AddNode: unary(async (bytes) => {
      const { id, address } = member(bytes);
      needsLeader();
      if (!address) throw new NodeError("InvalidArgument", "AddNode needs the node's address");
      return confReply(await node.addNode(id, address));
    }),
    AddLearner: unary(async (bytes) => {
      const { id, address } = member(bytes);
      needsLeader();
      if (!address) throw new NodeError("InvalidArgument", "AddLearner needs the node's address");
      return confReply(await node.addLearner(id, address));
    }),
    Promote: unary(async (bytes) => {
      const { id } = member(bytes);
      needsLeader();
      return confReply(await node.promote(id));
    }),
    RemoveNode: unary(async (bytes) => {
      const { id } = member(bytes);
      needsLeader();
      return confReply(await node.removeNode(id));
    }),
    TransferLeader: unary(async (bytes) => {
      const req = decodeRequest<{ to: string }>(TransferLeaderRequest, bytes);
      const to = safeNumber(req.to, "TransferLeaderRequest.to");
      needsLeader();
      return { leader: await node.transferLeader(to) };
    }),
  };
}
