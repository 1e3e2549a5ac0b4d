// Emits generated/descriptor.ts: the service descriptor (runtime/codegen-v1's
// ServiceDescriptor) as one readable object literal, compiled by the runtime at import. It is
// the only place the generated code states field numbers, table and method wiring; every
// other generated file is types and thin wrappers around what the runtime derives from it.
//
// This module does no I/O.

import type { FieldModel, MethodModel, ServiceModel, TypeRef } from "../model.js";
import { Imports, RUNTIME_MODULE, type GeneratedFile, newProject, printTs, serviceValueName } from "../files.js";

type Literal = string | number | boolean | undefined | readonly Literal[] | { readonly [k: string]: Literal };

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Prints a value as a TypeScript literal: small flat objects on one line, the rest indented. */
export function printLiteral(v: Literal, indent = ""): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v === undefined) return "undefined";
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    return `[\n${v.map((x) => `${inner}${printLiteral(x, inner)},`).join("\n")}\n${indent}]`;
  }
  const entries = Object.entries(v as Record<string, Literal>).filter(([, x]) => x !== undefined);
  if (entries.length === 0) return "{}";
  const key = (k: string) => (IDENT.test(k) ? k : JSON.stringify(k));
  const flat = entries.every(([, x]) => typeof x !== "object");
  if (flat) return `{ ${entries.map(([k, x]) => `${key(k)}: ${printLiteral(x)}`).join(", ")} }`;
  return `{\n${entries.map(([k, x]) => `${inner}${key(k)}: ${printLiteral(x, inner)},`).join("\n")}\n${indent}}`;
}

function typeName(t: TypeRef): string {
  switch (t.kind) {
    case "scalar":
      return t.scalar;
    case "message":
    case "enum":
      return t.name;
    case "map":
      return typeName(t.value);
  }
}

function field(f: FieldModel): Literal {
  return {
    name: f.name.snake,
    ts: f.name.camel,
    no: f.number,
    type: typeName(f.type),
    optional: f.optional || undefined,
    repeated: f.repeated || undefined,
    map: f.type.kind === "map" || undefined,
  };
}

function method(m: MethodModel): Literal {
  return { ts: m.name.camel, rpc: m.name.pascal, input: m.input, output: m.output, hasOutput: m.hasOutput, consistency: m.consistency };
}

/** The descriptor of a model, as plain data (also used by tools that need no TypeScript). */
export function descriptorOf(model: ServiceModel): Literal {
  return {
    service: model.service.pascal,
    package: model.package,
    messages: Object.fromEntries(model.messages.map((m) => [m.name, { fields: m.fields.map(field) }])),
    enums: Object.fromEntries(model.enums.map((e) => [e.name, { values: Object.fromEntries(e.values.map((v) => [v.name, v.number])) }])),
    tables: Object.fromEntries(model.tables.map((t) => [t.name.snake, { ts: t.name.camel, key: t.key, value: typeName(t.value) }])),
    commands: Object.fromEntries(model.commands.map((m) => [m.name.snake, method(m)])),
    queries: Object.fromEntries(model.queries.map((m) => [m.name.snake, method(m)])),
  };
}

export function emitDescriptor(model: ServiceModel): GeneratedFile {
  const file = newProject().createSourceFile("descriptor.ts");
  const imports = new Imports();
  const descType = imports.add(RUNTIME_MODULE, "ServiceDescriptor", true);
  imports.add(RUNTIME_MODULE, "compileService", false);
  file.addStatements([
    `/**\n * What the runtime needs to know of ${model.specFile}: messages with their protobuf field numbers\n * (stable across edits: raft.lock.json), enums, tables, commands and queries.\n */\nconst descriptor: ${descType} = ${printLiteral(descriptorOf(model))};`,
    `/** ${model.service.pascal} compiled for the runtime: codecs, tables and routing. */\nexport const ${serviceValueName(model)} = compileService(descriptor);`,
  ]);
  imports.writeTo(file);
  return { path: "generated/descriptor.ts", content: printTs(model, file) };
}
