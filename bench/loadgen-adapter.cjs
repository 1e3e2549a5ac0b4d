'use strict';
// raftgen adapter for the shared load generator (../shared/bench/loadgen): put/get against the
// generated placement-center (examples/placement-center) started by `raftgen cluster`, through
// its generated, typed client — the code a user gets: `set` for put, `get` for get (strings:
// keys and values are carried as latin1 text, byte for byte).
//
// Contract (see the generator's src/adapters/index.js): create(opts) -> { client(i),
// describe(), close() }; client(i) -> { put(key, value), get(key), onError(err) }.
//
// Like the etcd adapter, channel c talks over a connection of its own (a local subchannel
// pool); each client(i) uses channel i % conns. The generated client finds the leader,
// follows NotLeader hints, retries safely within the deadline and uses exactly-once sessions.
// `raftgen cluster` compiles the project to examples/placement-center/.raftgen/build first.

const path = require('node:path');
const fs = require('node:fs');
const { pathToFileURL } = require('node:url');

const BUILT = path.join(__dirname, '..', 'examples', 'placement-center', '.raftgen', 'build', 'generated', 'index.js');

async function create(opts) {
  if (!fs.existsSync(BUILT)) throw new Error(`${BUILT} is missing: start the cluster with raftgen cluster examples/placement-center first`);
  const { PlacementCenterClient } = await import(pathToFileURL(BUILT).href);
  const eps = opts.endpoints.map((e) => `${e.host}:${e.port}`);
  const consistency = opts.serializable ? 'stale' : 'linearizable';
  const channels = [];
  for (let c = 0; c < opts.conns; c++) {
    // Rotate the endpoint list so channel c starts at endpoint c % E, as the etcd adapter does.
    const endpoints = eps.map((_, k) => eps[(c + k) % eps.length]);
    channels.push(
      new PlacementCenterClient({
        endpoints,
        deadlineMs: opts.timeoutMs,
        backoffMs: 10,
        channelOptions: { 'grpc.use_local_subchannel_pool': 1, 'grpc.loadgen_channel_index': c },
      }),
    );
  }
  // Connect every channel before the clock starts.
  await Promise.all(channels.map((ch) => ch.exists({ key: '' }, { consistency: 'stale' })));

  const wrap = (err) => {
    err.kind = `${err.code || err.name}: ${String(err.message || '').split(':')[0].slice(0, 60)}`;
    return err;
  };
  function client(i) {
    const ch = channels[i % channels.length];
    return {
      async put(key, value) {
        await ch.set({ key: key.toString('latin1'), value: value.toString('latin1') }).catch((e) => Promise.reject(wrap(e)));
      },
      async get(key) {
        const r = await ch.get({ key: key.toString('latin1') }, { consistency }).catch((e) => Promise.reject(wrap(e)));
        return r.value === undefined ? null : Buffer.from(r.value, 'latin1');
      },
      // The generated client moves to the leader by itself.
      onError() {},
    };
  }

  return {
    describe: () => ({ endpoints: eps, conns: channels.length, consistency, client: 'generated PlacementCenterClient' }),
    client,
    async close() {
      for (const ch of channels) ch.close();
    },
  };
}

module.exports = { name: 'raftgen', create };
