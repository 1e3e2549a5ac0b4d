// Handlers of the kitchen-sink spec (every feature of the spec language at once), used by
// test/generator/kitchen-sink.test.ts: compiled with tsc --strict --exactOptionalPropertyTypes
// against the generated code, then run through the generated client. Excluded from the
// repository's tsconfig: it compiles only beside its generated code, in the test's temp dir.
import type { Handlers } from "../generated/handlers.js";
import type { Color } from "../generated/types.js";

export const handlers: Handlers = {
  commands: {
    put(input, { state }) {
      state.byName.put(input.s, input);
      state.byU64.put(input.u64, input.c);
      state.byI64.put(input.i64, input.b);
      state.byU32.put(input.u32, input.d);
      return state.byName.get(input.s)!;
    },
    noop() {},
    delete({ key }, { state }) {
      return { deleted: state.byName.delete(key) };
    },
    new({ x }, { state }) {
      state.byI64.put(x, new Uint8Array([1]));
    },
  },
  queries: {
    get({ key }, { state }) {
      return { value: state.byName.get(key) };
    },
    all(_input, { state }) {
      return { items: [...state.byName.values()], count: state.byName.size };
    },
    colors({ from }, { state }) {
      const colors: Record<string, Color> = {};
      for (const [k, c] of state.byU64.entries()) if (k >= from) colors[String(k)] = c;
      return { colors };
    },
  },
};
