// `npm run bench -- <scenario> [flags]`: the benchmarks of issue 9 (bench/README.md).
//   polling [--quick] [--jobs N] [--scale S] [--seed N] [--strategies a,b] [--out FILE]
//   scale --n N [--workers 2] [--quick] [--coalesce on|off] [--seed N] [--out FILE]
import { parseArgs } from 'node:util';
import { runPollingBench } from './polling';
import { runScaleBench } from './scale';

const USAGE = 'usage: npm run bench -- <polling|scale> [--quick] [flags] (see bench/README.md)';

function positiveNumber(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${flag} ${value}: must be a positive number`);
  return n;
}

function runSeconds(
  value: string | undefined,
  fallback: readonly [number, number],
): readonly [number, number] {
  if (value === undefined) return fallback;
  const [min, max] = value.split(',').map(Number);
  if (!(min! > 0 && max! >= min!))
    throw new Error(`--run-seconds ${value}: must be MIN,MAX seconds with 0 < MIN <= MAX`);
  return [min!, max!];
}

async function main(argv: readonly string[]): Promise<void> {
  const [scenario, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      quick: { type: 'boolean', default: false },
      jobs: { type: 'string' },
      scale: { type: 'string' },
      seed: { type: 'string' },
      strategies: { type: 'string' },
      out: { type: 'string' },
      n: { type: 'string' },
      workers: { type: 'string' },
      coalesce: { type: 'string' },
      'run-seconds': { type: 'string' },
      'call-budget': { type: 'string' },
      'all-waiting': { type: 'boolean', default: false },
    },
  });
  const seed = positiveNumber('seed', values.seed, 1);
  if (scenario === 'polling') {
    await runPollingBench({
      jobs: Math.round(positiveNumber('jobs', values.jobs, values.quick ? 6 : 16)),
      scale: positiveNumber('scale', values.scale, values.quick ? 120 : 60),
      seed,
      out: values.out ?? 'bench/results/polling-latest.json',
      ...(values.strategies ? { strategies: values.strategies.split(',') } : {}),
    });
  } else if (scenario === 'scale') {
    const coalesce = values.coalesce ?? 'on';
    if (coalesce !== 'on' && coalesce !== 'off') throw new Error(`--coalesce ${coalesce}: must be on or off`);
    const budget = values['call-budget'] ?? 'on';
    if (budget !== 'on' && budget !== 'off') throw new Error(`--call-budget ${budget}: must be on or off`);
    await runScaleBench({
      callBudget: budget === 'on',
      imports: Math.round(positiveNumber('n', values.n, values.quick ? 100 : 2000)),
      workers: Math.round(positiveNumber('workers', values.workers, 2)),
      coalesce: coalesce === 'on',
      seed,
      quick: values.quick ?? false,
      out: values.out ?? 'bench/results/scale-latest.json',
      runSeconds: runSeconds(values['run-seconds'], values.quick ? [10, 30] : [20, 60]),
      allWaiting: values['all-waiting'] ?? false,
    });
  } else {
    throw new Error(scenario === undefined ? USAGE : `unknown scenario "${scenario}"; ${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    let cause = err instanceof Error ? err.cause : undefined;
    while (cause instanceof Error) {
      console.error(`  cause: ${cause.name}: ${cause.message}`);
      cause = cause.cause;
    }
    process.exit(1);
  },
);
