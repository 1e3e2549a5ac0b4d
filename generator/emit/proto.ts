// Emits generated/service.proto: a standard proto3 service named after the spec, so that any
// gRPC client can call a node. The view is computed here; the template only lays it out.
//
// This module does no I/O (the template text is loaded once by templates.ts).

import type { FieldModel, ServiceModel, TypeRef } from "../model.js";
import { type GeneratedFile, headerLine } from "../files.js";
import { render } from "../templates.js";

function protoType(t: TypeRef): string {
  switch (t.kind) {
    case "scalar":
      return t.scalar;
    case "message":
    case "enum":
      return t.name;
    case "map":
      return `map<string, ${protoType(t.value)}>`;
  }
}

function declaration(f: FieldModel): string {
  const label = f.repeated ? "repeated " : f.optional ? "optional " : "";
  return `${label}${protoType(f.type)} ${f.name.snake}`;
}

const lines = (text: string | undefined) => (text ? text.trim().split("\n") : []);

export function emitProto(model: ServiceModel): GeneratedFile {
  const view = {
    header: headerLine(model),
    service: model.service.pascal,
    package: model.package,
    serviceDoc: lines(model.doc),
    rpcs: [...model.commands, ...model.queries].map((m) => ({
      name: m.name.pascal,
      input: m.input,
      output: m.output,
      doc: [...lines(m.doc), m.kind === "command" ? `Command ${m.name.snake}: a replicated write.` : `Query ${m.name.snake} (default consistency: ${m.consistency}).`],
    })),
    enums: model.enums.map((e) => ({ name: e.name, doc: lines(e.doc), values: e.values })),
    messages: model.messages.map((m) => ({
      name: m.name,
      doc: lines(m.doc),
      fields: m.fields.map((f) => ({ decl: declaration(f), number: f.number, doc: lines(f.doc) })),
      reserved: m.reserved.join(", "),
    })),
  };
  return { path: "generated/service.proto", content: render("service.proto.hbs", view) };
}
