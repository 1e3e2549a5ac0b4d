// The gRPC services a node serves besides the transport: the generic application service
// (proto/service.proto: Command, Query) and the admin service (proto/admin.proto). Handlers
// decode and validate at this gateway, call the node, and map every error through toStatus:
// nothing a client sends can throw out of a handler.
//
// This module does no I/O of its own.

import * as grpc from "@grpc/grpc-js";
import { NodeError } from "../node/errors.js";
import type { Consistency, RaftNode } from "../node/node.js";
import { decodeRequest, safeNumber } from "../transport/rpc.js";
import { adminRoot, serviceRoot, stateMachineDefinition } from "./definitions.js";
import { CLUSTER_ID_METADATA, LEADER_ADDRESS_METADATA, toStatus } from "./status-codes.js";

const type = (root: typeof serviceRoot, name: string) => root.lookupType(name);
const CommandRequest = type(serviceRoot, "raftgen.service.v1.CommandRequest");
const QueryRequest = type(serviceRoot, "raftgen.service.v1.QueryRequest");
const StatusRequest = type(adminRoot, "raftgen.admin.v1.StatusRequest");
const MemberRequest = type(adminRoot, "raftgen.admin.v1.MemberRequest");
const TransferLeaderRequest = type(adminRoot, "raftgen.admin.v1.TransferLeaderRequest");

const CONSISTENCIES = new Set<string>(["linearizable", "lease", "stale"]);

type Unary = (call: grpc.ServerUnaryCall<Buffer, unknown>, callback: grpc.sendUnaryData<unknown>) => void;

/**
 * A unary handler that never throws: errors go through toStatus (or are relayed as they are).
 * A caller that names another cluster (CLUSTER_ID_METADATA) is refused before the handler runs.
 */
function clusterUnary(clusterId: string, fn: (req: Buffer, call: grpc.ServerUnaryCall<Buffer, unknown>) => Promise<unknown>): Unary {
  return (call, callback) => {
    const claimed = call.metadata.get(CLUSTER_ID_METADATA).map((v) => v.toString());
    if (claimed.some((id) => id !== clusterId)) {
      const named = claimed.map((id) => JSON.stringify(id)).join(", ");
      callback(toStatus(new NodeError("FailedPrecondition", `cluster id mismatch: this node is in cluster ${JSON.stringify(clusterId)}, the call is for ${named}`)));
      return;
    }
    fn(call.request, call).then(
      (reply) => callback(null, reply),
      (err: unknown) => callback(err instanceof RelayedError ? err.status : toStatus(err)),
    );
  };
}

/** A status returned by the leader for a forwarded call, passed back unchanged. */
class RelayedError extends Error {
  constructor(readonly status: grpc.ServiceError) {
    super(status.details);
  }
}

/** Set on calls a follower forwards to its leader, so that they are never forwarded twice. */
const FORWARDED_METADATA = "x-raftgen-forwarded";
const FORWARD_TIMEOUT_MS = 10_000;

/**
 * Forwards commands that reach a follower to the leader over gRPC and relays the reply (as
 * etcd does), so any node accepts writes; a client that follows NotLeader hints, like
 * RaftClient, talks to the leader directly and skips this hop.
 */
class Forwarder {
  private readonly clients = new Map<string, grpc.Client>();

  forward(address: string, path: string, request: Buffer, call: grpc.ServerUnaryCall<Buffer, unknown>): Promise<Buffer> {
    let client = this.clients.get(address);
    if (!client) {
      client = new grpc.Client(address, grpc.credentials.createInsecure(), { "grpc.keepalive_time_ms": 10_000, "grpc.keepalive_timeout_ms": 5_000 });
      this.clients.set(address, client);
    }
    const metadata = new grpc.Metadata();
    metadata.set(FORWARDED_METADATA, "1");
    const deadline = call.getDeadline();
    const bounded = deadline === Infinity ? Date.now() + FORWARD_TIMEOUT_MS : deadline;
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, request, metadata, { deadline: bounded }, (err, reply) => {
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

export function stateMachineService(node: RaftNode): grpc.UntypedServiceImplementation & { close(): void } {
  const unary = (fn: Parameters<typeof clusterUnary>[1]) => clusterUnary(node.clusterId, fn);
  const forwarder = new Forwarder();
  return {
    close: () => forwarder.close(),
    Command: unary(async (bytes, call) => {
      const req = decodeRequest<{ command: string; payload: Uint8Array; client_id: string; sequence: string }>(CommandRequest, bytes);
      if (!req.command) throw new NodeError("InvalidArgument", "CommandRequest.command is empty");
      const seq = safeNumber(req.sequence, "CommandRequest.sequence");
      if (req.client_id !== "" && seq === 0) throw new NodeError("InvalidArgument", "a session (client_id) needs a sequence >= 1");
      const session = req.client_id !== "" ? { clientId: req.client_id, seq } : undefined;
      if (!node.isLeader()) {
        const leader = node.leader();
        if (leader.address === "" || call.metadata.get(FORWARDED_METADATA).length > 0) {
          throw notLeader(node, leader.address === "" ? "no leader known" : "a forwarded command reached a follower");
        }
        // Tell the client who leads, so that its next commands skip this hop.
        const md = new grpc.Metadata();
        md.set(LEADER_ADDRESS_METADATA, leader.address);
        call.sendMetadata(md);
        return forwarder.forward(leader.address, stateMachineDefinition.Command!.path, bytes, call);
      }
      const r = await node.propose(req.command, req.payload, session);
      return { payload: r.output, index: r.index };
    }),
    Query: unary(async (bytes) => {
      const req = decodeRequest<{ query: string; payload: Uint8Array; consistency: string }>(QueryRequest, bytes);
      if (!req.query) throw new NodeError("InvalidArgument", "QueryRequest.query is empty");
      const consistency = (req.consistency || "linearizable") as Consistency;
      if (!CONSISTENCIES.has(consistency)) {
        throw new NodeError("InvalidArgument", `consistency ${JSON.stringify(req.consistency)} is not linearizable, lease or stale`);
      }
      const r = await node.query(req.query, req.payload, consistency);
      return { payload: r.output, index: r.index };
    }),
  };
}

function notLeader(node: RaftNode, why = "membership changes go through the leader"): NodeError {
  const leader = node.leader();
  return new NodeError("NotLeader", `not the leader: ${why}`, { leaderId: leader.id, leaderAddress: leader.address });
}

export function adminService(node: RaftNode, selfAddress: () => string): grpc.UntypedServiceImplementation {
  const unary = (fn: Parameters<typeof clusterUnary>[1]) => clusterUnary(node.clusterId, fn);
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
