// A hand-written key/value state machine for the node tests (the generator will emit code
// of this shape from a spec). Payloads are JSON; the `kv` table maps string keys to string
// values. Commands: set {key, value}, delete {key} -> {deleted}, append {key, value} -> {value},
// fail {} (always throws, after writing: the write must not survive). Queries: get {key} ->
// {value?}, count {} -> {count}.

import type { EntryInfo, ReadView, StateMachine, Transaction } from "../../runtime/node/state-machine.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const json = (v: unknown) => enc.encode(JSON.stringify(v));
const parse = <T>(b: Uint8Array): T => JSON.parse(dec.decode(b)) as T;

export class KvStateMachine implements StateMachine {
  readonly tables = ["kv"] as const;
  /** Every entry index applied on this node, for tests of exactly-once. */
  readonly appliedIndexes: number[] = [];

  hasCommand(c: string): boolean {
    return c === "set" || c === "delete" || c === "append" || c === "fail";
  }
  hasQuery(q: string): boolean {
    return q === "get" || q === "count";
  }

  apply(command: string, payload: Uint8Array, tx: Transaction, entry: EntryInfo): Uint8Array {
    this.appliedIndexes.push(entry.index);
    switch (command) {
      case "set": {
        const { key, value } = parse<{ key: string; value: string }>(payload);
        tx.put("kv", key, enc.encode(value));
        return json({});
      }
      case "delete": {
        const { key } = parse<{ key: string }>(payload);
        return json({ deleted: tx.delete("kv", key) });
      }
      case "append": {
        const { key, value } = parse<{ key: string; value: string }>(payload);
        const old = tx.get("kv", key);
        const next = (old ? dec.decode(old) : "") + value;
        tx.put("kv", key, enc.encode(next));
        return json({ value: next });
      }
      case "fail": {
        tx.put("kv", "should-not-exist", enc.encode("x"));
        throw new Error("handler failed on purpose");
      }
    }
    throw new Error(`unknown command ${command}`);
  }

  query(query: string, payload: Uint8Array, view: ReadView): Uint8Array {
    if (query === "get") {
      const { key } = parse<{ key: string }>(payload);
      const v = view.get("kv", key);
      return json(v === undefined ? {} : { value: dec.decode(v) });
    }
    if (query === "count") return json({ count: view.size("kv") });
    throw new Error(`unknown query ${query}`);
  }
}

export { json, parse };

/** Factory for node processes (runtime/server/main.ts loads it by name). */
export function createStateMachine(): KvStateMachine {
  return new KvStateMachine();
}
