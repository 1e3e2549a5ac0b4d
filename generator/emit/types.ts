// Emits generated/types.ts: one TypeScript type per named type, enum, command or query input
// and output. 64-bit integers are bigint; enums are unions of their value names; optional
// fields may be absent. Nothing here encodes anything: the runtime does, from descriptor.ts.
//
// This module does no I/O.

import { type OptionalKind, type PropertySignatureStructure, type SourceFile } from "ts-morph";
import type { EnumModel, FieldModel, MessageModel, MethodModel, ServiceModel } from "../model.js";
import { type GeneratedFile, docs, newProject, printTs, sourcePointer, tsType } from "../files.js";

/** The method a generated message belongs to, if it is an inline input or output. */
function ownerOf(model: ServiceModel, m: MessageModel): { method: MethodModel; part: "Input" | "Output" } | undefined {
  for (const method of [...model.commands, ...model.queries]) {
    if (!method.inputIsNamed && method.input === m.name) return { method, part: "Input" };
    if (!method.outputIsNamed && method.output === m.name) return { method, part: "Output" };
  }
  return undefined;
}

function fieldType(f: FieldModel): string {
  const base = tsType(f.type, (n) => n);
  if (f.repeated) return `${base}[]`;
  return f.optional ? `${base} | undefined` : base;
}

function property(model: ServiceModel, f: FieldModel): OptionalKind<PropertySignatureStructure> {
  return {
    name: f.name.camel,
    type: fieldType(f),
    hasQuestionToken: f.optional,
    docs: f.doc ? docs(model, f.doc, `Field \`${f.name.snake}\` = ${f.number}.`) : [],
  };
}

function emitMessage(model: ServiceModel, file: SourceFile, m: MessageModel): void {
  const owner = ownerOf(model, m);
  const label = owner ? `${owner.part} of ${owner.method.kind} \`${owner.method.name.snake}\`.` : `Type \`${m.name}\`.`;
  const what = owner ? `${owner.method.kind} "${owner.method.name.snake}"` : `type "${m.name}"`;
  const jsdoc = docs(model, owner ? undefined : m.doc, `${label}\n${sourcePointer(model, what, m.source)}`);
  if (m.fields.length === 0) {
    file.addTypeAlias({ name: m.name, isExported: true, type: "Record<string, never>", docs: jsdoc });
  } else {
    file.addInterface({ name: m.name, isExported: true, docs: jsdoc, properties: m.fields.map((f) => property(model, f)) });
  }
}

function emitEnum(model: ServiceModel, file: SourceFile, e: EnumModel): void {
  const summary = `Enum \`${e.name}\`: ${e.values.map((v) => `${v.name} = ${v.number}`).join(", ")}; the value numbered 0 is the default.`;
  file.addTypeAlias({
    name: e.name,
    isExported: true,
    type: e.values.map((v) => JSON.stringify(v.name)).join(" | "),
    docs: docs(model, e.doc, `${summary}\n${sourcePointer(model, `enum "${e.name}"`, e.source)}`),
  });
}

/** `<Method>Input` / `<Method>Output` aliases for methods whose payload is a named type. */
function emitAlias(model: ServiceModel, file: SourceFile, method: MethodModel, part: "Input" | "Output"): void {
  const target = part === "Input" ? method.input : method.output;
  file.addTypeAlias({
    name: `${method.name.pascal}${part}`,
    isExported: true,
    type: target,
    docs: [`${part} of ${method.kind} \`${method.name.snake}\`: the type \`${target}\`.\n${sourcePointer(model, `${method.kind} "${method.name.snake}"`, method.source)}`],
  });
}

export function emitTypes(model: ServiceModel): GeneratedFile {
  // A command without output has an empty <Name>Output in .proto only: its TypeScript side
  // returns nothing.
  const protoOnly = new Set(model.commands.filter((c) => !c.hasOutput).map((c) => c.output));
  const decls: [string, (f: SourceFile) => void][] = [];
  for (const e of model.enums) decls.push([e.name, (f) => emitEnum(model, f, e)]);
  for (const m of model.messages) if (!protoOnly.has(m.name)) decls.push([m.name, (f) => emitMessage(model, f, m)]);
  for (const method of [...model.commands, ...model.queries]) {
    if (method.inputIsNamed) decls.push([`${method.name.pascal}Input`, (f) => emitAlias(model, f, method, "Input")]);
    if (method.outputIsNamed) decls.push([`${method.name.pascal}Output`, (f) => emitAlias(model, f, method, "Output")]);
  }
  decls.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const file = newProject().createSourceFile("types.ts");
  for (const [, emit] of decls) emit(file);
  return { path: "generated/types.ts", content: printTs(model, file) };
}
