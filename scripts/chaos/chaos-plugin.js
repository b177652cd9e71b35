// Task type "chaos-work" for the chaos soak: records each execution (task, attempt, node) as one
// appended line in CHAOS_EXEC_LOG, then works for payload.ms, honouring cancellation.
const { appendFileSync } = require('node:fs');

module.exports = {
  'chaos-work': async (payload, ctx) => {
    if (process.env.CHAOS_EXEC_LOG) appendFileSync(process.env.CHAOS_EXEC_LOG, `${ctx.taskId} ${ctx.attempt} ${process.env.NODE_ID}\n`);
    const ms = Number((payload && payload.ms) || 0);
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      ctx.signal.addEventListener('abort', () => { clearTimeout(timer); reject(new Error('aborted')); }, { once: true });
    });
    return { ms, seq: payload && payload.seq };
  },
};
