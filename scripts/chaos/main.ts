import { formatReport, runChaos } from './run-chaos';

/** `npm run chaos -- [--duration-s 300] [--seed N] [--rate 20] [--fault-every-s 6] [--principals 3 --ans 2 --kis 6]` */
function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a number`);
  return v;
}

async function main(): Promise<number> {
  const seed = arg('seed', Math.floor(Math.random() * 2 ** 31));
  const options = {
    durationMs: arg('duration-s', 300) * 1000, seed, principals: arg('principals', 3), ans: arg('ans', 2), kis: arg('kis', 6),
    ratePerSec: arg('rate', 20), faultEveryMs: arg('fault-every-s', 6) * 1000, settleMs: arg('settle-s', 120) * 1000,
    log: (line: string) => console.log(`[${new Date().toISOString()}] ${line}`),
  };
  console.log(`chaos: seed ${seed}, ${options.durationMs / 1000} s, ${options.principals} principals, ${options.ans} An, ${options.kis} Ki, ${options.ratePerSec} tasks/s`);
  const report = await runChaos(options);
  console.log(`\n${formatReport(report)}`);
  const ok = report.lost.length === 0 && report.doubleCompletions.length === 0 && report.violations.length === 0 && report.leftoverProcesses.length === 0;
  if (!ok) {
    console.log(`\nINVARIANT BROKEN: lost ${JSON.stringify(report.lost.slice(0, 10))} double ${JSON.stringify(report.doubleCompletions.slice(0, 10))} violations ${JSON.stringify(report.violations.slice(0, 10))}`);
    // The rows say where a lost task stopped (status, attempts, An, Ki, publish mark, lease): the run's database is gone after it.
    for (const row of report.lostRows) console.log(`lost task row: ${JSON.stringify(row)}`);
    for (const line of report.lostTrail) console.log(`trail: ${line}`);
  }
  return ok ? 0 : 1;
}

main().then((code) => process.exit(code), (err: unknown) => { console.error(err); process.exit(2); });
