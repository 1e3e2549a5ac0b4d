// The handlers of the lock service. A lease ends at `expires_at`, computed from the timestamp
// of the entry that carries the command (chosen once by the proposer, the same on every
// node), never from a local clock. Every acquisition takes a new fencing token from one
// counter, so tokens only grow, across all locks and all leaders.

import type { Handlers } from "../generated/handlers.js";

const NEXT_TOKEN = "next_token";

export const handlers: Handlers = {
  commands: {
    acquire({ name, owner, ttlMs }, { state, entry }) {
      if (owner === "") throw new Error("acquire needs an owner");
      if (ttlMs === 0) throw new Error("acquire needs ttl_ms > 0");
      const now = BigInt(entry.timestamp);
      const held = state.locks.get(name);
      if (held && held.expiresAt > now && held.owner !== owner) return { outcome: "HELD_BY_OTHER", lock: held };
      if (held && held.expiresAt > now) {
        // The owner renews: same token, longer lease.
        const lock = { ...held, expiresAt: now + BigInt(ttlMs) };
        state.locks.put(name, lock);
        return { outcome: "ACQUIRED", lock };
      }
      const token = (state.counters.get(NEXT_TOKEN) ?? 0n) + 1n;
      state.counters.put(NEXT_TOKEN, token);
      const lock = { name, owner, token, expiresAt: now + BigInt(ttlMs) };
      state.locks.put(name, lock);
      return { outcome: "ACQUIRED", lock };
    },
    release({ name, owner, token }, { state }) {
      const held = state.locks.get(name);
      if (!held || held.owner !== owner || held.token !== token) return { released: false };
      state.locks.delete(name);
      return { released: true };
    },
    renew({ name, owner, token, ttlMs }, { state, entry }) {
      if (ttlMs === 0) throw new Error("renew needs ttl_ms > 0");
      const now = BigInt(entry.timestamp);
      const held = state.locks.get(name);
      if (!held || held.owner !== owner || held.token !== token) throw new Error(`lock ${name} is not held by ${owner} with token ${token}`);
      if (held.expiresAt <= now) throw new Error(`the lease on ${name} expired at ${held.expiresAt}`);
      const lock = { ...held, expiresAt: now + BigInt(ttlMs) };
      state.locks.put(name, lock);
      return { lock };
    },
  },
  queries: {
    holder({ name }, { state }) {
      return { lock: state.locks.get(name) };
    },
    list(_input, { state }) {
      return { locks: [...state.locks.values()] };
    },
  },
};
