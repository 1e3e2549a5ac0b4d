// The service descriptor: the one object generated code hands to the runtime. It says, for a
// spec, every message with its fields and protobuf numbers, every enum, table, command and
// query. The runtime derives everything else from it (protobuf codecs, table plumbing, the
// typed gRPC service, the client's calls), so generated code stays types plus thin wrappers.
//
// This is a versioned contract (codegen-v1): a project generated today must keep working with
// a later raftgen. Add optional fields only; never change the meaning of one.
//
// This module holds types only.

/** Scalar type names, as in the spec and protobuf. */
export type ScalarName = "string" | "bytes" | "bool" | "int32" | "uint32" | "int64" | "uint64" | "double" | "float";

/** Table key types (order-preserving storage encodings). */
export type KeyTypeName = "string" | "uint64" | "int64" | "uint32";

export interface FieldDescriptor {
  /** snake_case, as in the spec and .proto. */
  readonly name: string;
  /** The TypeScript property (camelCase). */
  readonly ts: string;
  /** Protobuf field number. */
  readonly no: number;
  /**
   * A scalar name, or the PascalCase name of a message or enum of this descriptor. For a map
   * field, the type of its values (keys are strings).
   */
  readonly type: string;
  /** proto3 optional: presence tracked, `undefined` when absent. */
  readonly optional?: true;
  readonly repeated?: true;
  /** `map<string, type>`. */
  readonly map?: true;
}

export interface MessageDescriptor {
  /** In field-number order. */
  readonly fields: readonly FieldDescriptor[];
}

export interface EnumDescriptor {
  /** Value name -> number; the value numbered 0 is the default. */
  readonly values: Readonly<Record<string, number>>;
}

export interface TableDescriptor {
  /** The property on the state object (camelCase). */
  readonly ts: string;
  readonly key: KeyTypeName;
  /** A scalar, enum or message name. Scalars and enums are stored in a wrapper message (field 1). */
  readonly value: string;
}

export interface MethodDescriptor {
  /** The handler and client method name (camelCase). */
  readonly ts: string;
  /** The rpc name in service.proto (PascalCase). */
  readonly rpc: string;
  /** Message names. */
  readonly input: string;
  readonly output: string;
  /** False for a command declared without output: it returns nothing. */
  readonly hasOutput: boolean;
  /** Queries: the default consistency. */
  readonly consistency?: "linearizable" | "lease" | "stale";
}

export interface ServiceDescriptor {
  /** PascalCase service name. */
  readonly service: string;
  /** Proto package. */
  readonly package: string;
  readonly messages: Readonly<Record<string, MessageDescriptor>>;
  readonly enums: Readonly<Record<string, EnumDescriptor>>;
  /** Keyed by snake_case table name (the /sm/<table>/ prefix). */
  readonly tables: Readonly<Record<string, TableDescriptor>>;
  /** Keyed by snake_case name (what travels in the log and on the generic service). */
  readonly commands: Readonly<Record<string, MethodDescriptor>>;
  readonly queries: Readonly<Record<string, MethodDescriptor>>;
}
