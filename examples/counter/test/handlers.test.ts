// Tests of the counter's handlers, through the generated client running them in this process
// (`{ local: createStateMachine(handlers) }`): the same codecs and state machine a node runs,
// no cluster needed.

import { describe, expect, test } from "vitest";
import { CounterClient, createStateMachine } from "../generated/index.js";
import { handlers } from "../src/handlers.js";

const client = () => new CounterClient({ local: createStateMachine(handlers) });

describe("counter", () => {
  test("add returns the new value; get reads it; an unknown counter is zero", async () => {
    const c = client();
    expect(await c.add({ name: "a", delta: 5n })).toEqual({ value: 5n });
    expect(await c.add({ name: "a", delta: -2n })).toEqual({ value: 3n });
    expect(await c.get({ name: "a" })).toEqual({ value: 3n });
    expect(await c.get({ name: "never" })).toEqual({ value: 0n });
  });

  test("int64 is exact at its limits, and overflow fails the command without changing the counter", async () => {
    const c = client();
    const max = 2n ** 63n - 1n;
    expect(await c.add({ name: "big", delta: max })).toEqual({ value: max });
    await expect(c.add({ name: "big", delta: 1n })).rejects.toMatchObject({ code: "CommandFailed", message: "counter big would overflow int64" });
    expect(await c.get({ name: "big" })).toEqual({ value: max });
    expect(await c.add({ name: "low", delta: -(2n ** 63n) })).toEqual({ value: -(2n ** 63n) });
  });

  test("reset removes a counter; list shows every counter in name order", async () => {
    const c = client();
    await c.add({ name: "b", delta: 2n });
    await c.add({ name: "a", delta: 1n });
    await c.add({ name: "c", delta: 3n });
    await c.reset({ name: "c" });
    const { counters } = await c.list({});
    expect(counters).toEqual({ a: 1n, b: 2n });
    expect(Object.keys(counters)).toEqual(["a", "b"]);
  });

  test("an input that is not of the spec's types is refused before it runs", async () => {
    const c = client();
    await expect(c.add({ name: "a", delta: 1 as unknown as bigint })).rejects.toMatchObject({ code: "InvalidArgument" });
    expect(await c.get({ name: "a" })).toEqual({ value: 0n });
  });
});
