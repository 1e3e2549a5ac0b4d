// Emits generated/client.ts: `<Service>Client`, one camelCase method per command and query.
// Each method is one line over the runtime's ServiceClient, which encodes, finds the leader,
// retries safely and uses exactly-once sessions by default.
//
// This module does no I/O.

import { Scope } from "ts-morph";
import type { MethodModel, ServiceModel } from "../model.js";
import { Imports, RUNTIME_MODULE, type GeneratedFile, docs, newProject, printTs, serviceValueName, sourcePointer } from "../files.js";

export function clientClassName(model: ServiceModel): string {
  return `${model.service.pascal}Client`;
}

export function emitClient(model: ServiceModel): GeneratedFile {
  const file = newProject().createSourceFile("client.ts");
  const imports = new Imports();
  const service = imports.add("./descriptor.js", serviceValueName(model), false);
  const runtimeClient = imports.add(RUNTIME_MODULE, "ServiceClient", false);
  const options = `${imports.add(RUNTIME_MODULE, "ClientOptions", true)} | ${imports.add(RUNTIME_MODULE, "LocalOptions", true)}`;
  const type = (n: string) => imports.add("./types.js", n, true);
  const methodDoc = (m: MethodModel, extra: string) =>
    docs(model, m.doc, `${m.kind === "command" ? "Command" : "Query"} \`${m.name.snake}\`: ${extra}\n${sourcePointer(model, `${m.kind} "${m.name.snake}"`, m.source)}`);
  const methods = [
    ...model.commands.map((m) => {
      const output = m.hasOutput ? type(`${m.name.pascal}Output`) : undefined;
      return {
        name: m.name.camel,
        docs: methodDoc(m, "a replicated write, resolved once applied. Retried safely (exactly-once session)."),
        parameters: [{ name: "input", type: type(`${m.name.pascal}Input`) }],
        returnType: `Promise<${output ?? "void"}>`,
        statements: [
          output
            ? `return this.rpc.command<${output}>(${JSON.stringify(m.name.snake)}, input);`
            : `return this.rpc.command<undefined>(${JSON.stringify(m.name.snake)}, input);`,
        ],
      };
    }),
    ...model.queries.map((m) => ({
      name: m.name.camel,
      docs: methodDoc(m, `a read (default consistency: ${m.consistency}; \`options.consistency\` overrides).`),
      parameters: [
        { name: "input", type: type(`${m.name.pascal}Input`) },
        { name: "options", type: imports.add(RUNTIME_MODULE, "QueryOptions", true), hasQuestionToken: true },
      ],
      returnType: `Promise<${type(`${m.name.pascal}Output`)}>`,
      statements: [`return this.rpc.query<${m.name.pascal}Output>(${JSON.stringify(m.name.snake)}, input, options);`],
    })),
  ];
  file.addClass({
    name: clientClassName(model),
    isExported: true,
    docs: [
      `Typed client of ${model.service.pascal}: give it some or all node addresses; it finds the leader.\nWith \`{ local: createStateMachine(handlers) }\` it runs the handlers in this process instead (for tests).\n\n@example\nconst client = new ${clientClassName(model)}({ endpoints: ["127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"] });`,
    ],
    properties: [{ name: "rpc", isReadonly: true, scope: Scope.Private, type: runtimeClient }],
    ctors: [{ parameters: [{ name: "options", type: options }], statements: [`this.rpc = new ${runtimeClient}(${service}, options);`] }],
    methods: [
      ...methods,
      { name: "close", docs: ["Closes the connections."], returnType: "void", statements: ["this.rpc.close();"] },
    ],
  });
  imports.writeTo(file);
  return { path: "generated/client.ts", content: printTs(model, file) };
}
