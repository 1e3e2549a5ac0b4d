// A hand-built model of a small spec, for emitter unit tests that must not depend on the
// spec front end.
import { type FieldModel, type MessageModel, type ServiceModel, names } from "../../generator/model.js";

const f = (snake: string, number: number, type: FieldModel["type"], more: Partial<FieldModel> = {}): FieldModel => ({
  name: names(snake),
  number,
  type,
  optional: false,
  repeated: false,
  source: `x.${snake}`,
  ...more,
});
const msg = (name: string, fields: FieldModel[], more: Partial<MessageModel> = {}): MessageModel => ({ name, fields, source: name, reserved: [], ...more });

export const sampleModel: ServiceModel = {
  service: names("placement_center"),
  package: "placement",
  doc: "Metadata of a broker cluster.",
  specFile: "raft.yaml",
  generatorVersion: "0.1.0",
  messages: [
    msg("BrokerNode", [
      f("cluster_name", 1, { kind: "scalar", scalar: "string" }),
      f("node_id", 2, { kind: "scalar", scalar: "uint64" }, { doc: "Unique id." }),
      f("extend", 3, { kind: "scalar", scalar: "string" }, { optional: true }),
      f("labels", 4, { kind: "map", value: { kind: "scalar", scalar: "string" } }),
      f("tags", 5, { kind: "scalar", scalar: "string" }, { repeated: true }),
      f("status", 6, { kind: "enum", name: "Status" }),
    ], { doc: "A broker.", source: "types.BrokerNode", reserved: [7] }),
    msg("DeleteInput", [f("key", 1, { kind: "scalar", scalar: "string" })]),
    msg("DeleteOutput", [f("deleted", 1, { kind: "scalar", scalar: "bool" })]),
    msg("GetInput", [f("key", 1, { kind: "scalar", scalar: "string" })]),
    msg("GetOutput", [f("value", 1, { kind: "scalar", scalar: "string" }, { optional: true })]),
    msg("RegisterNodeOutput", []),
  ],
  enums: [{ name: "Status", values: [{ name: "ACTIVE", number: 0 }, { name: "DRAINING", number: 1 }], source: "types.Status" }],
  tables: [
    { name: names("kv"), key: "string", value: { kind: "scalar", scalar: "string" }, source: "state.kv" },
    { name: names("nodes"), key: "uint64", value: { kind: "message", name: "BrokerNode" }, source: "state.nodes", doc: "Brokers by id." },
  ],
  commands: [
    { kind: "command", name: names("delete"), input: "DeleteInput", inputIsNamed: false, output: "DeleteOutput", outputIsNamed: false, hasOutput: true, source: "commands.delete" },
    { kind: "command", name: names("register_node"), input: "BrokerNode", inputIsNamed: true, output: "RegisterNodeOutput", outputIsNamed: false, hasOutput: false, source: "commands.register_node", doc: "Adds a broker." },
  ],
  queries: [
    { kind: "query", name: names("get"), input: "GetInput", inputIsNamed: false, output: "GetOutput", outputIsNamed: false, hasOutput: true, consistency: "linearizable", source: "queries.get" },
  ],
};
