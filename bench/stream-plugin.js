// Task type "bench-tokens": emits payload.tokens chunks payload.gapMs apart, each carrying its index
// and the time it was emitted, so the benchmark can time every chunk from emit to client.
const { setTimeout: sleep } = require('node:timers/promises');

module.exports = {
  'bench-tokens': async (payload, ctx) => {
    const n = Number(payload && payload.tokens) || 0;
    for (let i = 0; i < n; i++) {
      ctx.emit(JSON.stringify({ i, t: Date.now() }));
      await sleep(Number(payload.gapMs) || 0, undefined, { signal: ctx.signal });
    }
    return { tokens: n };
  },
};
