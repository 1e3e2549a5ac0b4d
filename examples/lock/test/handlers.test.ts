// Tests of the lock service's handlers, through the generated client running them in this
// process (`{ local: createStateMachine(handlers) }`): the same codecs and state machine a node
// runs, no cluster needed. Time is the entry's timestamp, which the local client takes from
// `clock`: each test moves `now` by hand, so leases expire exactly when the rules say.

import { describe, expect, test } from "vitest";
import { type Lock, LockServiceClient, createStateMachine } from "../generated/index.js";
import { handlers } from "../src/handlers.js";

/** A local client whose entries carry the timestamp `clock.now` (ms) at the time of each command. */
function client(start = 1_000_000) {
  const clock = { now: start };
  const c = new LockServiceClient({ local: createStateMachine(handlers), clock: () => clock.now });
  return { c, clock };
}

describe("lock: acquire", () => {
  test("a free lock is acquired with a token and a lease ending ttl_ms after the entry's timestamp", async () => {
    const { c } = client(5_000);
    const r = await c.acquire({ name: "db", owner: "alice", ttlMs: 300 });
    expect(r).toEqual({ outcome: "ACQUIRED", lock: { name: "db", owner: "alice", token: 1n, expiresAt: 5_300n } });
    expect(await c.holder({ name: "db" })).toEqual({ lock: r.lock });
  });

  test("the lease comes from the entry's timestamp, not this machine's clock", async () => {
    // An entry time far in the past: a lease computed from Date.now() would end decades later.
    const { c } = client(42);
    const r = await c.acquire({ name: "db", owner: "alice", ttlMs: 10 });
    expect(r.lock.expiresAt).toBe(52n);
  });

  test("fencing tokens only grow, across all locks, releases and takeovers", async () => {
    const { c, clock } = client();
    const tokens: bigint[] = [];
    tokens.push((await c.acquire({ name: "a", owner: "o1", ttlMs: 100 })).lock.token);
    tokens.push((await c.acquire({ name: "b", owner: "o2", ttlMs: 100 })).lock.token);
    expect(await c.release({ name: "a", owner: "o1", token: tokens[0]! })).toEqual({ released: true });
    tokens.push((await c.acquire({ name: "a", owner: "o3", ttlMs: 100 })).lock.token);
    clock.now += 100; // b expired
    tokens.push((await c.acquire({ name: "b", owner: "o4", ttlMs: 100 })).lock.token);
    tokens.push((await c.acquire({ name: "c", owner: "o1", ttlMs: 100 })).lock.token);
    expect(tokens).toEqual([1n, 2n, 3n, 4n, 5n]);
  });

  test("while the lease lasts another owner gets HELD_BY_OTHER with the holder's lock, and nothing changes", async () => {
    const { c, clock } = client(1_000);
    const held = (await c.acquire({ name: "db", owner: "alice", ttlMs: 500 })).lock;
    clock.now = 1_499; // one ms before the end of the lease
    expect(await c.acquire({ name: "db", owner: "bob", ttlMs: 10_000 })).toEqual({ outcome: "HELD_BY_OTHER", lock: held });
    expect(await c.holder({ name: "db" })).toEqual({ lock: held });
    // The refusal took no token: the next acquisition gets 2.
    expect((await c.acquire({ name: "other", owner: "bob", ttlMs: 1 })).lock.token).toBe(2n);
  });

  test("the owner acquiring again while it holds the lock keeps its token and extends the lease from now", async () => {
    const { c, clock } = client(1_000);
    await c.acquire({ name: "db", owner: "alice", ttlMs: 500 });
    clock.now = 1_400;
    expect(await c.acquire({ name: "db", owner: "alice", ttlMs: 50 })).toEqual({
      outcome: "ACQUIRED",
      lock: { name: "db", owner: "alice", token: 1n, expiresAt: 1_450n },
    });
  });

  test("a lease ends at expires_at: from then on anyone takes the lock over with a new, larger token", async () => {
    const { c, clock } = client(1_000);
    const old = (await c.acquire({ name: "db", owner: "alice", ttlMs: 500 })).lock;
    clock.now = 1_500; // exactly expires_at
    const taken = await c.acquire({ name: "db", owner: "bob", ttlMs: 100 });
    expect(taken).toEqual({ outcome: "ACQUIRED", lock: { name: "db", owner: "bob", token: 2n, expiresAt: 1_600n } });
    expect(taken.lock.token).toBeGreaterThan(old.token);
    expect(await c.holder({ name: "db" })).toEqual({ lock: taken.lock });
  });

  test("the owner of an expired lock gets a new token when it acquires it again", async () => {
    const { c, clock } = client(1_000);
    await c.acquire({ name: "db", owner: "alice", ttlMs: 10 });
    clock.now = 2_000;
    expect((await c.acquire({ name: "db", owner: "alice", ttlMs: 10 })).lock).toEqual({ name: "db", owner: "alice", token: 2n, expiresAt: 2_010n });
  });

  test("an empty owner or a zero ttl fails the command and changes nothing", async () => {
    const { c } = client();
    await expect(c.acquire({ name: "db", owner: "", ttlMs: 10 })).rejects.toMatchObject({ code: "CommandFailed", message: "acquire needs an owner" });
    await expect(c.acquire({ name: "db", owner: "alice", ttlMs: 0 })).rejects.toMatchObject({ code: "CommandFailed", message: "acquire needs ttl_ms > 0" });
    expect(await c.holder({ name: "db" })).toEqual({});
    expect((await c.acquire({ name: "db", owner: "alice", ttlMs: 10 })).lock.token).toBe(1n);
  });

  test("renew with a zero ttl fails and leaves the lease as it was", async () => {
    const { c } = client(1_000);
    const { lock } = await c.acquire({ name: "db", owner: "alice", ttlMs: 10 });
    await expect(c.renew({ name: "db", owner: "alice", token: lock.token, ttlMs: 0 })).rejects.toMatchObject({ code: "CommandFailed", message: "renew needs ttl_ms > 0" });
    expect(await c.holder({ name: "db" })).toEqual({ lock });
  });

  test("a ttl_ms at the top of uint32 is added exactly", async () => {
    const { c } = client(1_700_000_000_000);
    const r = await c.acquire({ name: "db", owner: "alice", ttlMs: 2 ** 32 - 1 });
    expect(r.lock.expiresAt).toBe(1_700_000_000_000n + 4_294_967_295n);
  });
});

describe("lock: renew", () => {
  test("the holder renews with its token: same token, lease from the renewing entry's time", async () => {
    const { c, clock } = client(1_000);
    const { lock } = await c.acquire({ name: "db", owner: "alice", ttlMs: 100 });
    clock.now = 1_099;
    expect(await c.renew({ name: "db", owner: "alice", token: lock.token, ttlMs: 1_000 })).toEqual({ lock: { ...lock, expiresAt: 2_099n } });
    expect(await c.holder({ name: "db" })).toEqual({ lock: { ...lock, expiresAt: 2_099n } });
  });

  test("renew after expiry fails with CommandFailed and changes nothing, even when nobody took the lock", async () => {
    const { c, clock } = client(1_000);
    const { lock } = await c.acquire({ name: "db", owner: "alice", ttlMs: 100 });
    clock.now = 1_100;
    await expect(c.renew({ name: "db", owner: "alice", token: lock.token, ttlMs: 100 })).rejects.toMatchObject({
      code: "CommandFailed",
      message: "the lease on db expired at 1100",
    });
    expect(await c.holder({ name: "db" })).toEqual({ lock });
  });

  test("renew of a lock taken over by another owner fails and leaves the new holder alone", async () => {
    const { c, clock } = client(1_000);
    const old = (await c.acquire({ name: "db", owner: "alice", ttlMs: 100 })).lock;
    clock.now = 1_200;
    const now = (await c.acquire({ name: "db", owner: "bob", ttlMs: 100 })).lock;
    await expect(c.renew({ name: "db", owner: "alice", token: old.token, ttlMs: 100 })).rejects.toMatchObject({
      code: "CommandFailed",
      message: "lock db is not held by alice with token 1",
    });
    expect(await c.holder({ name: "db" })).toEqual({ lock: now });
  });

  test("renew with a wrong token, a wrong owner or of a free lock fails", async () => {
    const { c } = client();
    const { lock } = await c.acquire({ name: "db", owner: "alice", ttlMs: 100 });
    await expect(c.renew({ name: "db", owner: "alice", token: lock.token + 1n, ttlMs: 100 })).rejects.toMatchObject({ code: "CommandFailed", message: "lock db is not held by alice with token 2" });
    await expect(c.renew({ name: "db", owner: "bob", token: lock.token, ttlMs: 100 })).rejects.toMatchObject({ code: "CommandFailed", message: "lock db is not held by bob with token 1" });
    await expect(c.renew({ name: "free", owner: "alice", token: 1n, ttlMs: 100 })).rejects.toMatchObject({ code: "CommandFailed", message: "lock free is not held by alice with token 1" });
    expect(await c.holder({ name: "db" })).toEqual({ lock });
    expect(await c.holder({ name: "free" })).toEqual({});
  });
});

describe("lock: release", () => {
  test("the holder releases with its token; the lock is then free and a second release says false", async () => {
    const { c } = client();
    const { lock } = await c.acquire({ name: "db", owner: "alice", ttlMs: 100 });
    expect(await c.release({ name: "db", owner: "alice", token: lock.token })).toEqual({ released: true });
    expect(await c.holder({ name: "db" })).toEqual({});
    expect(await c.release({ name: "db", owner: "alice", token: lock.token })).toEqual({ released: false });
    expect((await c.acquire({ name: "db", owner: "bob", ttlMs: 100 })).outcome).toBe("ACQUIRED");
  });

  test("a wrong token or owner releases nothing", async () => {
    const { c } = client();
    const { lock } = await c.acquire({ name: "db", owner: "alice", ttlMs: 100 });
    expect(await c.release({ name: "db", owner: "alice", token: lock.token + 1n })).toEqual({ released: false });
    expect(await c.release({ name: "db", owner: "bob", token: lock.token })).toEqual({ released: false });
    expect(await c.release({ name: "never", owner: "alice", token: 1n })).toEqual({ released: false });
    expect(await c.holder({ name: "db" })).toEqual({ lock });
  });

  test("the previous holder's token cannot release a lock that was taken over (fencing)", async () => {
    const { c, clock } = client(1_000);
    const old = (await c.acquire({ name: "db", owner: "alice", ttlMs: 10 })).lock;
    clock.now = 2_000;
    const now = (await c.acquire({ name: "db", owner: "alice", ttlMs: 10 })).lock;
    expect(await c.release({ name: "db", owner: "alice", token: old.token })).toEqual({ released: false });
    expect(await c.holder({ name: "db" })).toEqual({ lock: now });
  });
});

describe("lock: holder and list", () => {
  test("holder is absent for a lock never taken; list has every lock held or expired-but-not-taken, in name order", async () => {
    const { c, clock } = client(1_000);
    expect(await c.holder({ name: "x" })).toEqual({});
    expect(await c.list({})).toEqual({ locks: [] });
    const z = (await c.acquire({ name: "z", owner: "o", ttlMs: 10 })).lock;
    const a = (await c.acquire({ name: "a", owner: "o", ttlMs: 1_000 })).lock;
    const m = (await c.acquire({ name: "m", owner: "o", ttlMs: 1_000 })).lock;
    await c.release({ name: "m", owner: "o", token: m.token });
    clock.now = 1_500; // z's lease is over; it stays listed until taken over or released
    const locks: Lock[] = (await c.list({})).locks;
    expect(locks).toEqual([a, z]);
    expect(await c.holder({ name: "z" }, { consistency: "stale" })).toEqual({ lock: z });
  });
});
