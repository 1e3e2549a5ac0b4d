// The `register` model: one register with read, write and compare-and-set, starting absent.
//
// It is the model of Jepsen's etcd "register" test (../shared/linearizability/jepsen/). The
// rules, from that folder's README ("Model register"):
//
// - The initial state is nil (key absent), not 0. `read -> nil` is legal only in that state.
// - `read -> V` is legal only if the state is V; a read never changes the state.
// - `write V` is always legal and sets the state to V.
// - `cas [A B]` that succeeded is legal only if the state is A and sets it to B. A cas that
//   failed its compare (`:fail` with the pair, or output `false`) is an observation: legal only
//   if the state is not A (nil equals no value), state unchanged.
// - Indeterminate (`:info`) writes and cas may take effect anywhere after their call or never;
//   an indeterminate cas placed where the state is A sets B, elsewhere it does nothing.
// - Failed or indeterminate reads carry no information and are dropped; so are failed writes
//   and a cas that failed with an error rather than a compare result.
//
// Values are integers or strings, compared with ===. This file must not contain search logic.

import { HistoryParseError } from "../errors.js";
import { describeRecord, type HistoryOperation } from "../history.js";
import { hashString, type Model, type Operation } from "../model.js";

/** A register value. */
export type RegisterValue = number | string;

/** The register's state: its value, or `null` while absent. */
export type RegisterState = RegisterValue | null;

export type RegisterInput =
  | { readonly op: "read" }
  | { readonly op: "write"; readonly value: RegisterValue }
  | { readonly op: "cas"; readonly from: RegisterValue; readonly to: RegisterValue };

/**
 * What a client observed: for `read`, the value read (`null` = absent); for `cas`, whether the
 * swap happened; for `write`, `null`.
 */
export type RegisterOutput = RegisterValue | null | boolean;

function valueOf(v: unknown): RegisterValue | undefined {
  return typeof v === "string" || (typeof v === "number" && Number.isFinite(v)) ? v : undefined;
}

function show(v: RegisterState): string {
  return v === null ? "nil" : JSON.stringify(v);
}

function hashValue(v: RegisterState): number {
  if (v === null) return 0x5bd1e995;
  if (typeof v === "number") {
    return Number.isInteger(v) && Math.abs(v) < 2 ** 31 ? Math.imul(v | 0, 0x9e3779b1) : hashString(`n${v}`);
  }
  return hashString(v);
}

export const registerModel: Model<RegisterState, RegisterInput, RegisterOutput> = {
  name: "register",

  init: () => null,

  step(state, input, output) {
    switch (input.op) {
      case "read":
        // An unknown read result constrains nothing.
        return output === undefined || output === state ? state : undefined;
      case "write":
        return input.value;
      case "cas":
        if (output === undefined) return state === input.from ? input.to : state;
        if (output === false) return state === input.from ? undefined : state;
        return state === input.from ? input.to : undefined;
    }
  },

  equal: (a, b) => a === b,

  hash: hashValue,

  fromHistory(r: HistoryOperation): Operation<RegisterInput, RegisterOutput> | undefined {
    const bad = (detail: string): never => {
      throw new HistoryParseError("invalid-operation", `${detail}: ${describeRecord(r)}`, r.line);
    };
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
      case "read": {
        if (r.outcome !== "ok") return undefined;
        const v = r.output ?? null;
        if (v !== null && valueOf(v) === undefined) bad("a read must return nil, a number or a string");
        return { ...base, input: { op: "read" }, output: v as RegisterState };
      }
      case "write": {
        const value = valueOf(r.input);
        if (value === undefined) return bad("a write needs a number or string value");
        if (r.outcome === "fail") return undefined;
        return { ...base, input: { op: "write", value }, output: r.outcome === "ok" ? null : undefined };
      }
      case "cas": {
        const pair = r.input;
        const from = Array.isArray(pair) && pair.length === 2 ? valueOf(pair[0]) : undefined;
        const to = Array.isArray(pair) && pair.length === 2 ? valueOf(pair[1]) : undefined;
        if (from === undefined || to === undefined) return bad("a cas needs a pair [from to] of numbers or strings");
        const input: RegisterInput = { op: "cas", from, to };
        switch (r.outcome) {
          case "ok":
            return { ...base, input, output: r.output !== false };
          case "fail":
            // A compare that failed is an observation; a failure with an error taught nothing.
            return r.error === undefined ? { ...base, input, output: false } : undefined;
          case "info":
            return { ...base, input, output: undefined };
        }
      }
    }
    return bad(`unknown operation "${r.op}" for model register (expected read, write or cas)`);
  },

  describeOperation(input, output) {
    switch (input.op) {
      case "read":
        return `read -> ${output === undefined ? "?" : show(output as RegisterState)}`;
      case "write":
        return `write(${show(input.value)})${output === undefined ? " -> ?" : ""}`;
      case "cas":
        return `cas(${show(input.from)}, ${show(input.to)}) -> ${output === undefined ? "?" : output === false ? "fail" : "ok"}`;
    }
  },

  describeState: show,
};
