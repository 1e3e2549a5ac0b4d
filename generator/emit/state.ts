// Emits generated/state.ts: the typed state tables. Command handlers get `<Service>State`
// (read-write tables), query handlers `<Service>ReadState` (read-only: calling `put` in a query
// does not compile). The runtime builds the objects from descriptor.ts.
//
// This module does no I/O.

import type { ServiceModel, TableModel } from "../model.js";
import { Imports, RUNTIME_MODULE, type GeneratedFile, docs, newProject, printTs, sourcePointer, tsKeyType, tsType } from "../files.js";

export function stateTypeName(model: ServiceModel): string {
  return `${model.service.pascal}State`;
}

export function readStateTypeName(model: ServiceModel): string {
  return `${model.service.pascal}ReadState`;
}

function tableDocs(model: ServiceModel, t: TableModel): string[] {
  return docs(model, t.doc, `Table \`${t.name.snake}\` (rows under /sm/${t.name.snake}/).\n${sourcePointer(model, `table "${t.name.snake}"`, t.source)}`);
}

export function emitState(model: ServiceModel): GeneratedFile {
  const file = newProject().createSourceFile("state.ts");
  const imports = new Imports();
  const valueType = (t: TableModel) => tsType(t.value, (n) => imports.add("./types.js", n, true));
  const tables = (kind: "Table" | "ReadonlyTable") =>
    model.tables.map((t) => ({
      name: t.name.camel,
      isReadonly: true,
      type: `${imports.add(RUNTIME_MODULE, kind, true)}<${tsKeyType(t.key)}, ${valueType(t)}>`,
      docs: tableDocs(model, t),
    }));
  file.addInterface({
    name: stateTypeName(model),
    isExported: true,
    docs: [`The replicated state of ${model.service.pascal} as a command handler sees it: read-write tables.\nWrites become visible to the next command once this one returns; a handler that throws leaves no trace.`],
    properties: tables("Table"),
  });
  file.addInterface({
    name: readStateTypeName(model),
    isExported: true,
    docs: [`The replicated state of ${model.service.pascal} as a query handler sees it: read-only tables.`],
    properties: tables("ReadonlyTable"),
  });
  imports.writeTo(file);
  return { path: "generated/state.ts", content: printTs(model, file) };
}
