// Type tests of generated code, compiled by test/generator/typecheck.test.ts. Each
// `// @ts-expect-error` line must keep failing to compile: if the generated types ever accept
// what they must refuse, tsc reports the directive as unused and the test fails.

import type { Handlers as CounterHandlers } from "../../../examples/counter/generated/handlers.js";
import type { Handlers as PlacementHandlers } from "../../../examples/placement-center/generated/handlers.js";
import type { BrokerNode, PlacementCenterClient } from "../../../examples/placement-center/generated/index.js";

/** A command handler must be synchronous: an async one returns a Promise and does not compile. */
export const asyncCommand: CounterHandlers = {
  commands: {
    // @ts-expect-error an async command handler returns a Promise
    async add({ delta }) {
      return { value: delta };
    },
    reset() {},
  },
  queries: {
    get: () => ({ value: 0n }),
    list: () => ({ counters: {} }),
  },
};

/** Even a command without output (declared to return undefined) cannot be async. */
export const asyncVoidCommand: CounterHandlers = {
  commands: {
    add: ({ delta }) => ({ value: delta }),
    // @ts-expect-error an async handler of a command without output still returns a Promise
    async reset() {},
  },
  queries: {
    get: () => ({ value: 0n }),
    list: () => ({ counters: {} }),
  },
};

/** Queries are synchronous too, and see read-only tables. */
export const badQueries: CounterHandlers = {
  commands: {
    add: ({ delta }) => ({ value: delta }),
    reset() {},
  },
  queries: {
    // @ts-expect-error an async query handler returns a Promise
    async get() {
      return { value: 0n };
    },
    list(_input, { state }) {
      // @ts-expect-error queries get ReadonlyTable: there is no put
      state.counters.put("x", 1n);
      return { counters: {} };
    },
  },
};

/** 64-bit integers are bigint: a number does not type-check, in handlers or in the client. */
export function wrongTypes(handlers: PlacementHandlers, client: PlacementCenterClient): void {
  const node: BrokerNode = {
    clusterName: "c",
    // @ts-expect-error node_id is uint64: bigint, not number
    nodeId: 1,
    nodeIp: "127.0.0.1",
    createTime: 0n,
    lastHeartbeat: 0n,
  };
  void node;
  // @ts-expect-error a command's input must have every non-optional field
  void client.set({ key: "k" });
  // @ts-expect-error unknown method
  void client.sett({ key: "k", value: "v" });
  void handlers;
}
