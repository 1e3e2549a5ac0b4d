// The grpc-js definitions of the application and admin services (proto/service.proto,
// proto/admin.proto), shared by the server that implements them and the client that calls
// them, so that the client never loads the server's handlers.
//
// This module only parses .proto files; it holds no state and serves nothing.

import type * as grpc from "@grpc/grpc-js";
import { loadProtoRoot } from "../codec/proto-files.js";
import { serviceDefinition } from "../transport/rpc.js";

export const serviceRoot = loadProtoRoot("service.proto");
export const adminRoot = loadProtoRoot("admin.proto");

export const stateMachineDefinition: grpc.ServiceDefinition = serviceDefinition(serviceRoot.lookupService("raftgen.service.v1.StateMachine"));
export const adminDefinition: grpc.ServiceDefinition = serviceDefinition(adminRoot.lookupService("raftgen.admin.v1.RaftAdmin"));
