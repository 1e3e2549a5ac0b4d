// The handlers of the counter service. int64 values are bigint: exact over the whole range.

import type { Handlers } from "../generated/handlers.js";

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

export const handlers: Handlers = {
  commands: {
    add({ name, delta }, { state }) {
      const value = (state.counters.get(name) ?? 0n) + delta;
      if (value > INT64_MAX || value < INT64_MIN) throw new Error(`counter ${name} would overflow int64`);
      state.counters.put(name, value);
      return { value };
    },
    reset({ name }, { state }) {
      state.counters.delete(name);
    },
  },
  queries: {
    get({ name }, { state }) {
      return { value: state.counters.get(name) ?? 0n };
    },
    list(_input, { state }) {
      return { counters: Object.fromEntries(state.counters.entries()) };
    },
  },
};
