// The `kv` model: a string-to-string map with get, put and append, checked one key at a time.
//
// It is the model of porcupine's kv histories (../shared/linearizability/kv/), the MIT 6.824
// key/value service. Rules, from that folder's README ("Model kv"):
//
// - Every key starts as the empty string; a missing key reads as "".
// - `get(k) -> s` is legal only if k's value is s. `put(k, v)` sets it to v, `append(k, v)` to
//   its current value + v.
// - Keys are independent, so the model partitions by key and its state is a single key's
//   value (linearizability is compositional: Herlihy & Wing 1990, Theorem 1).
// - Indeterminate puts/appends may take effect anywhere after their call or never; failed
//   operations and failed or indeterminate gets are dropped.
//
// This file must not contain search logic.

import { HistoryParseError } from "../errors.js";
import { describeRecord, type HistoryOperation } from "../history.js";
import { hashString, type Model, type Operation } from "../model.js";

/** The value of one key. */
export type KvState = string;

export type KvInput =
  | { readonly op: "get"; readonly key: string }
  | { readonly op: "put"; readonly key: string; readonly value: string }
  | { readonly op: "append"; readonly key: string; readonly value: string };

/** The string a get returned; `null` for put and append. */
export type KvOutput = string | null;

export const kvModel: Model<KvState, KvInput, KvOutput> = {
  name: "kv",

  init: () => "",

  step(state, input, output) {
    switch (input.op) {
      case "get":
        return output === undefined || output === state ? state : undefined;
      case "put":
        return input.value;
      case "append":
        return state + input.value;
    }
  },

  equal: (a, b) => a === b,

  hash: hashString,

  partition: (input) => input.key,

  fromHistory(r: HistoryOperation): Operation<KvInput, KvOutput> | undefined {
    const bad = (detail: string): never => {
      throw new HistoryParseError("invalid-operation", `${detail}: ${describeRecord(r)}`, r.line);
    };
    if (r.key === undefined) return bad("a kv operation needs a key");
    const key = r.key;
    if (r.outcome === "ok" && r.error !== undefined) {
      return bad(`a completed operation carries the error value :${r.error}`);
    }
    const base = {
      client: r.client,
      call: r.call,
      return: r.return,
      ...(r.line === undefined ? {} : { line: r.line }),
      ...(r.returnLine === undefined ? {} : { returnLine: r.returnLine }),
    };
    switch (r.op) {
      case "get": {
        if (r.outcome !== "ok") return undefined;
        const v = r.output ?? "";
        if (typeof v !== "string") return bad("a get must return a string");
        return { ...base, input: { op: "get", key }, output: v };
      }
      case "put":
      case "append": {
        if (typeof r.input !== "string") return bad(`a ${r.op} needs a string value`);
        if (r.outcome === "fail") return undefined;
        return {
          ...base,
          input: { op: r.op, key, value: r.input },
          output: r.outcome === "ok" ? null : undefined,
        };
      }
    }
    return bad(`unknown operation "${r.op}" for model kv (expected get, put or append)`);
  },

  describeOperation(input, output) {
    const k = JSON.stringify(input.key);
    const unknown = output === undefined ? " -> ?" : "";
    switch (input.op) {
      case "get":
        return `get(${k}) -> ${output === undefined ? "?" : JSON.stringify(output)}`;
      case "put":
        return `put(${k}, ${JSON.stringify(input.value)})${unknown}`;
      case "append":
        return `append(${k}, ${JSON.stringify(input.value)})${unknown}`;
    }
  },

  describeState: (s) => JSON.stringify(s),
};
