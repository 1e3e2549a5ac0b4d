// One mapping between the node's typed errors and gRPC status codes (STYLE 7.6: normalise
// at each boundary with one function). toStatus is used by every service handler; the
// client's fromStatus (runtime/client) rebuilds the same NodeError from it. The NodeError
// code and the leader hint travel in metadata, so nothing is lost on the way.
//
// This module does no I/O.

import * as grpc from "@grpc/grpc-js";
import { NodeError, type NodeErrorCode } from "../node/errors.js";
import { RpcInputError } from "../transport/rpc.js";

export const CODE_METADATA = "x-raftgen-code";
export const LEADER_ID_METADATA = "x-raftgen-leader-id";
export const LEADER_ADDRESS_METADATA = "x-raftgen-leader-address";
/**
 * Request metadata: the cluster id the caller means to talk to. Optional; when present and not
 * this node's cluster id, the call is refused with FAILED_PRECONDITION before anything runs.
 * (Transport frames carry the cluster id in the frame itself.)
 */
export const CLUSTER_ID_METADATA = "x-raftgen-cluster-id";

const STATUS_OF: Record<NodeErrorCode, grpc.status> = {
  NotLeader: grpc.status.UNAVAILABLE,
  Timeout: grpc.status.DEADLINE_EXCEEDED,
  Dropped: grpc.status.ABORTED,
  CommandFailed: grpc.status.FAILED_PRECONDITION,
  InvalidArgument: grpc.status.INVALID_ARGUMENT,
  FailedPrecondition: grpc.status.FAILED_PRECONDITION,
  Stopped: grpc.status.UNAVAILABLE,
};

/** The gRPC error for any error thrown by a handler; unknown errors become INTERNAL. */
export function toStatus(err: unknown): grpc.ServiceError {
  const metadata = new grpc.Metadata();
  let code: grpc.status;
  let details: string;
  if (err instanceof NodeError) {
    code = STATUS_OF[err.code];
    details = err.message;
    metadata.set(CODE_METADATA, err.code);
    if (err.details.leaderId) metadata.set(LEADER_ID_METADATA, String(err.details.leaderId));
    if (err.details.leaderAddress) metadata.set(LEADER_ADDRESS_METADATA, err.details.leaderAddress);
  } else if (err instanceof RpcInputError) {
    code = err.status;
    details = err.message;
    metadata.set(CODE_METADATA, code === grpc.status.INVALID_ARGUMENT ? "InvalidArgument" : "FailedPrecondition");
  } else {
    code = grpc.status.INTERNAL;
    details = err instanceof Error ? err.message : String(err);
  }
  return Object.assign(new Error(details), { code, details, metadata, name: "ServiceError" }) as grpc.ServiceError;
}
