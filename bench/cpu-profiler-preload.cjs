'use strict';
/*
 * Loaded into each node process with NODE_OPTIONS="--require <this file>" when the benchmark runs
 * with --cpu-prof (node 20 refuses --cpu-prof itself in NODE_OPTIONS). Starts the V8 sampling
 * profiler at once and writes a .cpuprofile into BENCH_CPU_PROFILE_DIR when the process exits.
 * The in-process inspector session answers synchronously, so this works inside the 'exit' handler.
 */
const { Session } = require('node:inspector');
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const dir = process.env.BENCH_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.start');
  process.once('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (err || !result) return;
      mkdirSync(dir, { recursive: true });
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      writeFileSync(join(dir, `CPU.${stamp}.${process.pid}.0.1.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
