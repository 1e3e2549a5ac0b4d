// Emits generated/descriptor.ts: the service descriptor (runtime/codegen-v1's
// ServiceDescriptor) as one readable object literal, compiled by the runtime at import. It is
// the only place the generated code states field numbers, table and method wiring; every
// other generated file is types and thin wrappers around what the runtime derives from it.
//
// This module does no I/O.

import { descriptorOf } from "../descriptor.js";
import type { ServiceModel } from "../model.js";
import { Imports, RUNTIME_MODULE, type GeneratedFile, newProject, printTs, serviceValueName } from "../files.js";

type Literal = string | number | boolean | undefined | readonly Literal[] | { readonly [k: string]: Literal };

export { descriptorOf };

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

export function emitDescriptor(model: ServiceModel): GeneratedFile {
  const file = newProject().createSourceFile("descriptor.ts");
  const imports = new Imports();
  const descType = imports.add(RUNTIME_MODULE, "ServiceDescriptor", true);
  imports.add(RUNTIME_MODULE, "compileService", false);
  file.addStatements([
    `/**\n * What the runtime needs to know of ${model.specFile}: messages with their protobuf field numbers\n * (stable across edits: raft.lock.json), enums, tables, commands and queries.\n */\nconst descriptor: ${descType} = ${printLiteral(descriptorOf(model) as unknown as Literal)};`,
    `/** ${model.service.pascal} compiled for the runtime: codecs, tables and routing. */\nexport const ${serviceValueName(model)} = compileService(descriptor);`,
  ]);
  imports.writeTo(file);
  return { path: "generated/descriptor.ts", content: printTs(model, file) };
}
