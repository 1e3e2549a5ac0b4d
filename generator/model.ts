// The normalised model (IR) of a spec: what every emitter reads. Every name is resolved and
// spelled in each case it is used in, every field has its protobuf number (from raft.lock.json),
// and every list is sorted, so that emitters are simple loops and the output is byte-identical
// for the same spec. No YAML is left here: source positions survive only as `source` paths
// (`commands.set.input.key`) for comments.
//
// This module holds types and pure helpers only; building the IR is in build-model.ts.

/** The scalar types of the spec language (protobuf's names). */
export const SCALARS = ["string", "bytes", "bool", "int32", "uint32", "int64", "uint64", "double", "float"] as const;
export type Scalar = (typeof SCALARS)[number];

/** Table key types: they have an order-preserving storage encoding. */
export const KEY_TYPES = ["string", "uint64", "int64", "uint32"] as const;
export type KeyType = (typeof KEY_TYPES)[number];

/** A resolved type reference. Map keys are always strings (`map<string, T>`). */
export type TypeRef =
  | { readonly kind: "scalar"; readonly scalar: Scalar }
  | { readonly kind: "message"; readonly name: string }
  | { readonly kind: "enum"; readonly name: string }
  | { readonly kind: "map"; readonly value: TypeRef & { kind: "scalar" | "message" | "enum" } };

/** One name in every case the outputs use. */
export interface Names {
  /** As in the spec and in .proto: `register_node`. */
  readonly snake: string;
  /** TypeScript members: `registerNode`. */
  readonly camel: string;
  /** TypeScript types and proto rpc names: `RegisterNode`. */
  readonly pascal: string;
}

export interface FieldModel {
  readonly name: Names;
  /** Protobuf field number, stable across edits (raft.lock.json). */
  readonly number: number;
  readonly type: TypeRef;
  /** proto3 `optional`: presence is tracked; `T | undefined` in TypeScript. */
  readonly optional: boolean;
  readonly repeated: boolean;
  readonly doc?: string;
  /** Where it is in the spec: `types.BrokerNode.node_id`. */
  readonly source: string;
}

export interface MessageModel {
  /** PascalCase message name: a named type, or `<Method>Input` / `<Method>Output`. */
  readonly name: string;
  /** Sorted by field number. */
  readonly fields: readonly FieldModel[];
  readonly doc?: string;
  readonly source: string;
  /** Field numbers once used and now free forever (removed fields), sorted. */
  readonly reserved: readonly number[];
}

export interface EnumValueModel {
  /** UPPER_SNAKE, as in the spec. */
  readonly name: string;
  readonly number: number;
}

export interface EnumModel {
  readonly name: string;
  /** Sorted by number; the first (number 0) is the default. */
  readonly values: readonly EnumValueModel[];
  readonly doc?: string;
  readonly source: string;
}

export interface TableModel {
  readonly name: Names;
  readonly key: KeyType;
  /** The row type: a scalar, an enum or a message. */
  readonly value: TypeRef & { kind: "scalar" | "message" | "enum" };
  readonly doc?: string;
  readonly source: string;
}

export type ConsistencyLevel = "linearizable" | "lease" | "stale";

export interface MethodModel {
  readonly kind: "command" | "query";
  readonly name: Names;
  /** Name of the input message (a generated `<Method>Input`, or a named type). */
  readonly input: string;
  /** True when `input` is a named type of `types:` (TypeScript aliases `<Method>Input` to it). */
  readonly inputIsNamed: boolean;
  /** Name of the output message; `<Method>Output` (empty) for commands without output. */
  readonly output: string;
  readonly outputIsNamed: boolean;
  /** False for a command without `output:`: its handler and client method return nothing. */
  readonly hasOutput: boolean;
  /** Queries only: the default consistency (linearizable unless the spec says otherwise). */
  readonly consistency?: ConsistencyLevel;
  readonly doc?: string;
  readonly source: string;
}

export interface ServiceModel {
  /** PascalCase service name. */
  readonly service: Names;
  /** Proto package (dotted lower-case). */
  readonly package: string;
  readonly doc?: string;
  /** Base name of the spec file (for headers and comments): `raft.yaml`. */
  readonly specFile: string;
  /** Version of raftgen that generated (for headers). */
  readonly generatorVersion: string;
  /** Named types and generated inputs/outputs, sorted by name. */
  readonly messages: readonly MessageModel[];
  readonly enums: readonly EnumModel[];
  readonly tables: readonly TableModel[];
  readonly commands: readonly MethodModel[];
  readonly queries: readonly MethodModel[];
}

/** snake_case -> camelCase (`node_id2` -> `nodeId2`). */
export function camelCase(snake: string): string {
  return snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** snake_case or PascalCase -> PascalCase. */
export function pascalCase(name: string): string {
  const camel = camelCase(name);
  return camel.charAt(0).toUpperCase() + camel.slice(1);
}

export function names(snake: string): Names {
  return { snake, camel: camelCase(snake), pascal: pascalCase(snake) };
}

/** Sort by a string key, with a plain code-unit comparison (locale-independent). */
export function sortBy<T>(items: readonly T[], key: (t: T) => string): T[] {
  return [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
