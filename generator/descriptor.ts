// The service descriptor of a model (runtime/codegen-v1's ServiceDescriptor) as plain data:
// what generated/descriptor.ts spells out, and what tools that need no TypeScript (raftgen
// call, tests) compile directly with compileService().
//
// This module does no I/O and loads no emitter (no ts-morph).

import type { FieldDescriptor, MethodDescriptor, ServiceDescriptor } from "../runtime/codegen-v1/descriptor.js";
import type { FieldModel, MethodModel, ServiceModel, TypeRef } from "./model.js";

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

function field(f: FieldModel): FieldDescriptor {
  return {
    name: f.name.snake,
    ts: f.name.camel,
    no: f.number,
    type: typeName(f.type),
    ...(f.optional ? { optional: true as const } : {}),
    ...(f.repeated ? { repeated: true as const } : {}),
    ...(f.type.kind === "map" ? { map: true as const } : {}),
  };
}

function method(m: MethodModel): MethodDescriptor {
  return { ts: m.name.camel, rpc: m.name.pascal, input: m.input, output: m.output, hasOutput: m.hasOutput, ...(m.consistency ? { consistency: m.consistency } : {}) };
}

/** The descriptor of a model, as plain data (also used by tools that need no TypeScript). */
export function descriptorOf(model: ServiceModel): ServiceDescriptor {
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
