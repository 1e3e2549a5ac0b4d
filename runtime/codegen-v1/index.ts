// raftgen/runtime/codegen-v1: the versioned runtime entry point of generated code. Generated
// files import only from here; everything else in the runtime may change without breaking a
// project generated today (the contract is the ServiceDescriptor and the names below: add,
// never change). Named exports only (STYLE 7.2).
//
// This file must not contain logic, and nothing it reaches may import the generator,
// ts-morph, handlebars or yaml.

// ---- for applications (handlers, clients, servers) ----
export type { ReadonlyTable, Table } from "./table.js";
export type { CommandContext, EntryInfo, QueryContext, ServiceHandlers } from "./state-machine.js";
export { ServiceClient } from "./client.js";
export type { ClientOptions, Consistency, LocalOptions, QueryOptions } from "./client.js";
export { NodeError, isNodeError } from "../node/errors.js";
export type { NodeErrorCode } from "../node/errors.js";
export { runServer } from "./server-main.js";

// ---- for generated code and tools ----
export { CodecError, CompiledService, compileService } from "./codec.js";
export type { JsonValue } from "./codec.js";
export type {
  EnumDescriptor,
  FieldDescriptor,
  KeyTypeName,
  MessageDescriptor,
  MethodDescriptor,
  ScalarName,
  ServiceDescriptor,
  TableDescriptor,
} from "./descriptor.js";
export { createServiceStateMachine } from "./state-machine.js";
export type { StateMachine } from "../node/state-machine.js";
export { typedGrpcService, typedMethodPath, typedServiceDefinition, typedServices } from "./grpc-service.js";
export {
  CONSISTENCY_METADATA,
  SESSION_CLIENT_ID_METADATA,
  SESSION_SEQUENCE_METADATA,
} from "../server/services.js";
