// The spec as validated (validate.ts) and before numbering (build-model.ts): plain data with
// the source range of every part, so that later checks (the lock file's evolution rules) can
// still point at a line. Also the diagnostic type every stage reports with.
//
// This module holds types and pure helpers only.

import type { ConsistencyLevel, KeyType, Scalar } from "./model.js";

/** Offsets into the spec text, [start, end). */
export interface Range {
  readonly start: number;
  readonly end: number;
}

/** One problem with a spec (zod's shape): printed as `file:line:col: message`. */
export interface Issue {
  /** A stable kebab-case code, e.g. `unknown-type`, `not-snake-case`, `breaking-change`. */
  readonly code: string;
  /** Where in the document: ["commands", "set", "input", "key"]. */
  readonly path: readonly (string | number)[];
  readonly message: string;
  readonly range: Range;
}

/** A type as written, resolved to what it names. */
export type SpecTypeRef =
  | { readonly kind: "scalar"; readonly scalar: Scalar }
  | { readonly kind: "named"; readonly name: string }
  | { readonly kind: "map"; readonly value: { readonly kind: "scalar"; readonly scalar: Scalar } | { readonly kind: "named"; readonly name: string } };

export interface SpecField {
  /** snake_case. */
  readonly name: string;
  readonly type: SpecTypeRef;
  readonly optional: boolean;
  readonly repeated: boolean;
  /** An explicit protobuf number (`number:` in the long form), when the spec gives one. */
  readonly number?: number;
  readonly doc?: string;
  /** The whole field entry (key and value). */
  readonly range: Range;
  /** The field's type (for "type changed" diagnostics). */
  readonly typeRange: Range;
}

export interface SpecMessage {
  /** PascalCase. */
  readonly name: string;
  /** In spec order. */
  readonly fields: readonly SpecField[];
  readonly doc?: string;
  readonly range: Range;
}

export interface SpecEnum {
  readonly name: string;
  /** In spec order. */
  readonly values: readonly { readonly name: string; readonly range: Range }[];
  readonly doc?: string;
  readonly range: Range;
}

export interface SpecTable {
  readonly name: string;
  readonly key: KeyType;
  readonly value: { readonly kind: "scalar"; readonly scalar: Scalar } | { readonly kind: "named"; readonly name: string };
  readonly doc?: string;
  readonly range: Range;
  readonly keyRange: Range;
  readonly valueRange: Range;
}

/** A command's or query's input or output: inline fields, or a named type. */
export type SpecPayload =
  | { readonly kind: "inline"; readonly fields: readonly SpecField[]; readonly range: Range }
  | { readonly kind: "named"; readonly name: string; readonly range: Range };

export interface SpecMethod {
  readonly name: string;
  /** Absent input = an empty message. */
  readonly input?: SpecPayload;
  /** Absent output = a command that returns nothing (queries always have one). */
  readonly output?: SpecPayload;
  readonly consistency?: ConsistencyLevel;
  readonly doc?: string;
  readonly range: Range;
}

/** A spec that passed validation: every name well-formed and unique, every type resolved. */
export interface CheckedSpec {
  readonly service: string;
  readonly package: string;
  readonly doc?: string;
  /** In spec order. */
  readonly types: readonly SpecMessage[];
  readonly enums: readonly SpecEnum[];
  readonly tables: readonly SpecTable[];
  readonly commands: readonly SpecMethod[];
  readonly queries: readonly SpecMethod[];
  /** Ranges of the top-level sections (for "removed" diagnostics); the whole document when absent. */
  readonly sections: { readonly [k in "service" | "types" | "state" | "commands" | "queries"]?: Range };
}
