// A binary key/value state machine for benchmarks (plain JS, so node processes load it
// without a compile step). Same shape as a generated one: one table, one command, one query.
//
//   command put: payload = u16 key length | key | value      -> output empty
//   query   get: payload = key                               -> 0x01 | value, or empty

export function createStateMachine() {
  return {
    tables: ["kv"],
    hasCommand: (c) => c === "put",
    hasQuery: (q) => q === "get",
    apply(command, payload, tx) {
      if (payload.length < 2) throw new Error("put payload too short");
      const n = (payload[0] << 8) | payload[1];
      if (payload.length < 2 + n) throw new Error("put payload truncated");
      const key = Buffer.from(payload.subarray(2, 2 + n)).toString("latin1");
      tx.put("kv", key, payload.subarray(2 + n));
      return new Uint8Array(0);
    },
    query(query, payload, view) {
      const v = view.get("kv", Buffer.from(payload).toString("latin1"));
      if (v === undefined) return new Uint8Array(0);
      const out = new Uint8Array(1 + v.length);
      out[0] = 1;
      out.set(v, 1);
      return out;
    },
  };
}
