// The spec's own gRPC service, served by every node beside the generic StateMachine service:
// `/<package>.<Service>/<Rpc>` takes the method's Input message bytes and answers its Output
// message bytes, as the generated service.proto declares, so that any gRPC client in any
// language can call a node. Each rpc goes the same way as the generic service's calls, through
// the node's NodeGateway: commands take its one command path (leader check, forwarding to the
// leader, propose), queries its query path, errors its toStatus mapping.
//
// Request metadata (all optional):
//   x-raftgen-client-id, x-raftgen-sequence   an exactly-once session for a command
//   x-raftgen-consistency                     a query's consistency (default: the spec's)
//   x-raftgen-cluster-id                      refuse the call unless the node is in that cluster
// Input bytes that do not decode as the Input message are answered INVALID_ARGUMENT before
// anything is proposed: the node checks every payload with the state machine before it
// proposes or reads (a follower forwards first; the leader's refusal is relayed).
//
// This module builds handlers; it does no I/O of its own.

import type * as grpc from "@grpc/grpc-js";
import { NodeError } from "../node/errors.js";
import {
  CONSISTENCY_METADATA,
  type GrpcService,
  type NodeGateway,
  SESSION_CLIENT_ID_METADATA,
  SESSION_SEQUENCE_METADATA,
  parseConsistency,
  parseSession,
} from "../server/services.js";
import type { CompiledService } from "./codec.js";
import type { MethodDescriptor } from "./descriptor.js";

const toBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const identity = (b: Buffer): Buffer => b;

function methods(service: CompiledService): [string, MethodDescriptor, "command" | "query"][] {
  return [
    ...[...service.commands].map(([n, m]) => [n, m, "command"] as [string, MethodDescriptor, "command"]),
    ...[...service.queries].map(([n, m]) => [n, m, "query"] as [string, MethodDescriptor, "query"]),
  ];
}

/** gRPC path of a method of the typed service: `/<package>.<Service>/<Rpc>`. */
export function typedMethodPath(service: CompiledService, m: MethodDescriptor): string {
  return `/${service.fullName}/${m.rpc}`;
}

/**
 * The grpc-js definition of the typed service, on encoded bytes both ways: servers get the
 * request's bytes and reply with bytes; a client sends encoded Input bytes and gets Output
 * bytes (decode them with the CompiledService).
 */
export function typedServiceDefinition(service: CompiledService): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<Uint8Array, Buffer>> = {};
  for (const [, m] of methods(service)) {
    def[m.rpc] = {
      path: typedMethodPath(service, m),
      requestStream: false,
      responseStream: false,
      requestSerialize: toBuffer,
      requestDeserialize: identity,
      responseSerialize: toBuffer,
      responseDeserialize: identity,
      originalName: m.rpc,
    };
  }
  return def as grpc.ServiceDefinition;
}

function metadataValue(call: grpc.ServerUnaryCall<Buffer, unknown>, key: string): string | undefined {
  const values = call.metadata.get(key);
  if (values.length > 1) throw new NodeError("InvalidArgument", `metadata ${key} given ${values.length} times`);
  return values.length === 0 ? undefined : values[0]!.toString();
}

/** The typed service of `service` on a node, over the node's gateway. */
export function typedGrpcService(service: CompiledService, gateway: NodeGateway): GrpcService {
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const [name, m, kind] of methods(service)) {
    const path = typedMethodPath(service, m);
    implementation[m.rpc] =
      kind === "command"
        ? gateway.unary(async (bytes, call) => {
            const session = parseSession(metadataValue(call, SESSION_CLIENT_ID_METADATA) ?? "", metadataValue(call, SESSION_SEQUENCE_METADATA), SESSION_SEQUENCE_METADATA);
            const r = await gateway.command(call, path, name, bytes, session);
            return "relayed" in r ? r.relayed : r.applied.output;
          })
        : gateway.unary(async (bytes, call) => {
            const consistency = parseConsistency(metadataValue(call, CONSISTENCY_METADATA) ?? m.consistency ?? "linearizable", CONSISTENCY_METADATA);
            return (await gateway.query(name, bytes, consistency)).output;
          });
  }
  return { definition: typedServiceDefinition(service), implementation };
}

/** For NodeServerOptions.services: serve the typed service of `service`. */
export function typedServices(service: CompiledService): (gateway: NodeGateway) => GrpcService[] {
  return (gateway) => [typedGrpcService(service, gateway)];
}
