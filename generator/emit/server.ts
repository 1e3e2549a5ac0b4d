// Emits generated/server.ts (the node process of the service: config from a file, flags or
// environment, handled by the runtime's runServer) and generated/index.ts (what a project
// imports: types, the client, createStateMachine, the compiled service).
//
// This module does no I/O.

import type { ServiceModel } from "../model.js";
import { Imports, RUNTIME_MODULE, type GeneratedFile, newProject, printTs, serviceValueName } from "../files.js";
import { clientClassName } from "./client.js";
import { readStateTypeName, stateTypeName } from "./state.js";

export function emitServer(model: ServiceModel): GeneratedFile {
  const file = newProject().createSourceFile("server.ts");
  const imports = new Imports();
  imports.add(RUNTIME_MODULE, "runServer", false);
  imports.add("./descriptor.js", serviceValueName(model), false);
  imports.add("../src/handlers.js", "handlers", false);
  file.addStatements([
    `// A node of ${model.service.pascal}: \`node dist/generated/server.js --config node.json\`, or flags\n// (--id 1 --cluster-id c --data ./data/1 --port 7001 --http-port 8001 --peers 1=127.0.0.1:7001,...)\n// or RAFTGEN_* environment variables. It prints a "ready" line and stops cleanly on SIGTERM.`,
    `await runServer(${serviceValueName(model)}, handlers);`,
  ]);
  imports.writeTo(file);
  return { path: "generated/server.ts", content: printTs(model, file) };
}

export function emitIndex(model: ServiceModel): GeneratedFile {
  const file = newProject().createSourceFile("index.ts");
  const typeNames = new Set<string>();
  for (const e of model.enums) typeNames.add(e.name);
  const protoOnly = new Set(model.commands.filter((c) => !c.hasOutput).map((c) => c.output));
  for (const m of model.messages) if (!protoOnly.has(m.name)) typeNames.add(m.name);
  for (const m of [...model.commands, ...model.queries]) {
    typeNames.add(`${m.name.pascal}Input`);
    if (m.kind === "query" || m.hasOutput) typeNames.add(`${m.name.pascal}Output`);
  }
  file.addExportDeclarations([
    { moduleSpecifier: "./client.js", namedExports: [clientClassName(model)] },
    { moduleSpecifier: "./descriptor.js", namedExports: [serviceValueName(model)] },
    { moduleSpecifier: "./handlers.js", namedExports: ["createStateMachine"] },
    { moduleSpecifier: "./handlers.js", isTypeOnly: true, namedExports: ["Handlers"] },
    { moduleSpecifier: "./state.js", isTypeOnly: true, namedExports: [readStateTypeName(model), stateTypeName(model)].sort() },
    { moduleSpecifier: "./types.js", isTypeOnly: true, namedExports: [...typeNames].sort() },
  ]);
  file.insertStatements(0, `// ${model.service.pascal}: everything a program that uses this service imports.`);
  return { path: "generated/index.ts", content: printTs(model, file) };
}
