// The gRPC services a node serves besides the transport: the generic application service
// (proto/service.proto: Command, Query) and the admin service (proto/admin.proto). Handlers
// decode and validate at this gateway, call the node, and map every error through toStatus:
// nothing a client sends can throw out of a handler.
//
// This module does no I/O of its own.

import type * as grpc from "@grpc/grpc-js";
import { loadProtoRoot } from "../codec/proto-files.js";
import { NodeError } from "../node/errors.js";
import type { Consistency, RaftNode } from "../node/node.js";
import { decodeRequest, safeNumber, serviceDefinition } from "../transport/rpc.js";
import { toStatus } from "./status-codes.js";

const serviceRoot = loadProtoRoot("service.proto");
const adminRoot = loadProtoRoot("admin.proto");
const SM_SERVICE = serviceRoot.lookupService("raftgen.service.v1.StateMachine");
const ADMIN_SERVICE = adminRoot.lookupService("raftgen.admin.v1.RaftAdmin");

export const stateMachineDefinition: grpc.ServiceDefinition = serviceDefinition(SM_SERVICE);
export const adminDefinition: grpc.ServiceDefinition = serviceDefinition(ADMIN_SERVICE);

const type = (root: typeof serviceRoot, name: string) => root.lookupType(name);
const CommandRequest = type(serviceRoot, "raftgen.service.v1.CommandRequest");
const QueryRequest = type(serviceRoot, "raftgen.service.v1.QueryRequest");
const MemberRequest = type(adminRoot, "raftgen.admin.v1.MemberRequest");
const TransferLeaderRequest = type(adminRoot, "raftgen.admin.v1.TransferLeaderRequest");

const CONSISTENCIES = new Set<string>(["linearizable", "lease", "stale"]);

type Unary = (call: grpc.ServerUnaryCall<Buffer, unknown>, callback: grpc.sendUnaryData<unknown>) => void;

/** A unary handler that never throws: errors go through toStatus. */
function unary(fn: (req: Buffer) => Promise<unknown>): Unary {
  return (call, callback) => {
    fn(call.request).then(
      (reply) => callback(null, reply),
      (err: unknown) => callback(toStatus(err)),
    );
  };
}

export function stateMachineService(node: RaftNode): grpc.UntypedServiceImplementation {
  return {
    Command: unary(async (bytes) => {
      const req = decodeRequest<{ command: string; payload: Uint8Array; client_id: string; sequence: string }>(CommandRequest, bytes);
      if (!req.command) throw new NodeError("InvalidArgument", "CommandRequest.command is empty");
      const seq = safeNumber(req.sequence, "CommandRequest.sequence");
      if (req.client_id !== "" && seq === 0) throw new NodeError("InvalidArgument", "a session (client_id) needs a sequence >= 1");
      const session = req.client_id !== "" ? { clientId: req.client_id, seq } : undefined;
      // Send clients to the leader rather than forwarding: one hop less per command, and
      // nothing is proposed, so the client may retry there safely.
      if (!node.isLeader()) throw notLeader(node, "commands go to the leader");
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
    Status: unary(async () => {
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
