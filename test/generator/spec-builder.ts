// Hand-built CheckedSpec values for the generator's unit tests (lock, build-model): the spec
// as validate.ts would hand it over, without YAML. Fields are written like the YAML short and
// long forms (`{ key: "string", tags: { type: "string", repeated: true } }`). Ranges default to
// { start: 0, end: 0 }; tests that assert a range pass their own.
//
// Test-only: it validates nothing (a spec built here may be one validate.ts would refuse).

import { SCALARS, type KeyType, type Scalar } from "../../generator/model.js";
import type { CheckedSpec, Range, SpecEnum, SpecField, SpecMessage, SpecMethod, SpecPayload, SpecTable, SpecTypeRef } from "../../generator/spec.js";

export const R0: Range = { start: 0, end: 0 };

export function r(start: number, end = start + 1): Range {
  return { start, end };
}

const SCALAR_SET: ReadonlySet<string> = new Set(SCALARS);

/** `uint64`, `BrokerNode`, `map<string, T>` -> a resolved type reference. */
export function typeRef(text: string): SpecTypeRef {
  const map = /^map<string,\s*(.+)>$/.exec(text);
  if (map) {
    const v = map[1] as string;
    return { kind: "map", value: SCALAR_SET.has(v) ? { kind: "scalar", scalar: v as Scalar } : { kind: "named", name: v } };
  }
  return SCALAR_SET.has(text) ? { kind: "scalar", scalar: text as Scalar } : { kind: "named", name: text };
}

export interface FieldOpts {
  readonly type: string;
  readonly optional?: boolean;
  readonly repeated?: boolean;
  readonly number?: number;
  readonly doc?: string;
  readonly range?: Range;
  readonly typeRange?: Range;
}

export type FieldsSpec = Readonly<Record<string, string | FieldOpts>>;

export function field(name: string, def: string | FieldOpts): SpecField {
  const o: FieldOpts = typeof def === "string" ? { type: def } : def;
  return {
    name,
    type: typeRef(o.type),
    optional: o.optional ?? false,
    repeated: o.repeated ?? false,
    ...(o.number !== undefined ? { number: o.number } : {}),
    ...(o.doc !== undefined ? { doc: o.doc } : {}),
    range: o.range ?? R0,
    typeRange: o.typeRange ?? R0,
  };
}

export function fields(defs: FieldsSpec): SpecField[] {
  return Object.entries(defs).map(([name, def]) => field(name, def));
}

export function message(name: string, defs: FieldsSpec, extra: { doc?: string; range?: Range } = {}): SpecMessage {
  return { name, fields: fields(defs), ...(extra.doc !== undefined ? { doc: extra.doc } : {}), range: extra.range ?? R0 };
}

export function enumType(name: string, values: readonly string[], extra: { doc?: string; range?: Range } = {}): SpecEnum {
  return { name, values: values.map((v) => ({ name: v, range: R0 })), ...(extra.doc !== undefined ? { doc: extra.doc } : {}), range: extra.range ?? R0 };
}

export function table(name: string, key: KeyType, value: string, extra: { doc?: string; range?: Range; keyRange?: Range; valueRange?: Range } = {}): SpecTable {
  const v = typeRef(value);
  if (v.kind === "map") throw new Error("a table value cannot be a map");
  return {
    name,
    key,
    value: v,
    ...(extra.doc !== undefined ? { doc: extra.doc } : {}),
    range: extra.range ?? R0,
    keyRange: extra.keyRange ?? R0,
    valueRange: extra.valueRange ?? R0,
  };
}

/** A payload: a type name (named) or fields (inline). */
export function payload(def: string | FieldsSpec, range: Range = R0): SpecPayload {
  return typeof def === "string" ? { kind: "named", name: def, range } : { kind: "inline", fields: fields(def), range };
}

export interface MethodOpts {
  readonly input?: string | FieldsSpec;
  readonly output?: string | FieldsSpec;
  readonly consistency?: SpecMethod["consistency"];
  readonly doc?: string;
  readonly range?: Range;
  readonly inputRange?: Range;
  readonly outputRange?: Range;
}

export function method(name: string, o: MethodOpts = {}): SpecMethod {
  return {
    name,
    ...(o.input !== undefined ? { input: payload(o.input, o.inputRange) } : {}),
    ...(o.output !== undefined ? { output: payload(o.output, o.outputRange) } : {}),
    ...(o.consistency !== undefined ? { consistency: o.consistency } : {}),
    ...(o.doc !== undefined ? { doc: o.doc } : {}),
    range: o.range ?? R0,
  };
}

export interface SpecParts {
  readonly service?: string;
  readonly package?: string;
  readonly doc?: string;
  readonly types?: readonly SpecMessage[];
  readonly enums?: readonly SpecEnum[];
  readonly tables?: readonly SpecTable[];
  readonly commands?: readonly SpecMethod[];
  readonly queries?: readonly SpecMethod[];
  readonly sections?: CheckedSpec["sections"];
}

export function spec(parts: SpecParts): CheckedSpec {
  return {
    service: parts.service ?? "Kv",
    package: parts.package ?? "kv",
    ...(parts.doc !== undefined ? { doc: parts.doc } : {}),
    types: parts.types ?? [],
    enums: parts.enums ?? [],
    tables: parts.tables ?? [],
    commands: parts.commands ?? [],
    queries: parts.queries ?? [],
    sections: parts.sections ?? {},
  };
}
