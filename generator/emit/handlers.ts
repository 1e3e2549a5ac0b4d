// Emits generated/handlers.ts: the `Handlers` type the user's src/handlers.ts implements,
// and `createStateMachine(handlers)`, the state machine a node runs. Command handlers are
// declared to return `undefined` or their output, never `void`: an async function (returning
// a Promise) then does not type-check (STYLE 7.3). Also the stub of src/handlers.ts that
// `build` writes when the user has none.
//
// This module does no I/O.

import { VariableDeclarationKind } from "ts-morph";
import type { MethodModel, ServiceModel } from "../model.js";
import { Imports, RUNTIME_MODULE, type GeneratedFile, docs, newProject, printTs, serviceValueName, sourcePointer } from "../files.js";
import { readStateTypeName, stateTypeName } from "./state.js";

function signature(model: ServiceModel, m: MethodModel, imports: Imports): string {
  const input = imports.add("./types.js", `${m.name.pascal}Input`, true);
  if (m.kind === "command") {
    const ctx = `${imports.add(RUNTIME_MODULE, "CommandContext", true)}<${imports.add("./state.js", stateTypeName(model), true)}>`;
    const output = m.hasOutput ? imports.add("./types.js", `${m.name.pascal}Output`, true) : "undefined";
    return `(input: ${input}, ctx: ${ctx}) => ${output}`;
  }
  const ctx = `${imports.add(RUNTIME_MODULE, "QueryContext", true)}<${imports.add("./state.js", readStateTypeName(model), true)}>`;
  return `(input: ${input}, ctx: ${ctx}) => ${imports.add("./types.js", `${m.name.pascal}Output`, true)}`;
}

function methodDocs(model: ServiceModel, m: MethodModel): string[] {
  const rule =
    m.kind === "command"
      ? "Runs on every node when the command is applied, in log order. Synchronous and deterministic: use `ctx.entry.timestamp`, never the local clock. Throwing fails this command for its caller and changes nothing."
      : `Runs on the node that serves the read (default consistency: ${m.consistency}). Synchronous; tables are read-only.`;
  return docs(model, m.doc, `${rule}\n${sourcePointer(model, `${m.kind} "${m.name.snake}"`, m.source)}`);
}

export function emitHandlers(model: ServiceModel): GeneratedFile {
  const file = newProject().createSourceFile("handlers.ts");
  const imports = new Imports();
  const group = (methods: readonly MethodModel[]) =>
    `{\n${methods.map((m) => `/**\n${methodDocs(model, m)[0]!.split("\n").map((l) => ` *${l ? ` ${l}` : ""}`).join("\n")}\n */\nreadonly ${m.name.camel}: ${signature(model, m, imports)};`).join("\n")}\n}`;
  file.addInterface({
    name: "Handlers",
    isExported: true,
    docs: [`What src/handlers.ts implements: one synchronous function per command and query of ${model.specFile}.`],
    properties: [
      { name: "commands", isReadonly: true, type: model.commands.length ? group(model.commands) : "Record<string, never>" },
      { name: "queries", isReadonly: true, type: model.queries.length ? group(model.queries) : "Record<string, never>" },
    ],
  });
  const sm = imports.add(RUNTIME_MODULE, "StateMachine", true);
  imports.add(RUNTIME_MODULE, "createServiceStateMachine", false);
  imports.add("./descriptor.js", serviceValueName(model), false);
  file.addFunction({
    name: "createStateMachine",
    isExported: true,
    docs: [`The state machine a node of ${model.service.pascal} runs: these handlers over the spec's tables.`],
    parameters: [{ name: "handlers", type: "Handlers" }],
    returnType: sm,
    statements: [`return createServiceStateMachine(${serviceValueName(model)}, handlers);`],
  });
  imports.writeTo(file);
  return { path: "generated/handlers.ts", content: printTs(model, file) };
}

/** src/handlers.ts for a new spec: every handler throws "not implemented" until written. */
export function emitHandlersStub(model: ServiceModel): GeneratedFile {
  const file = newProject().createSourceFile("handlers.ts");
  file.addImportDeclaration({ moduleSpecifier: "../generated/handlers.js", isTypeOnly: true, namedImports: ["Handlers"] });
  const stub = (m: MethodModel) => `${m.name.camel}(input, ctx) {\nthrow new Error("${m.kind} ${m.name.snake} is not implemented yet");\n}`;
  const group = (methods: readonly MethodModel[]) => `{\n${methods.map((m) => `${stub(m)},`).join("\n")}\n}`;
  file.addVariableStatement({
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    docs: [
      `The handlers of ${model.service.pascal}. Written by \`raftgen build\` once, because this file did not exist;\nit is yours now and is never overwritten. Handlers must be synchronous and deterministic.`,
    ],
    declarations: [{ name: "handlers", type: "Handlers", initializer: `{\ncommands: ${group(model.commands)},\nqueries: ${group(model.queries)},\n}` }],
  });
  file.formatText({ indentSize: 2 });
  return { path: "src/handlers.ts", content: `${file.getFullText().trimEnd()}\n` };
}
