import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * CPU time from /proc (Linux, WSL2); undefined elsewhere. Unlike requests per second, CPU time
 * per request hardly moves when other work shares the cores, so benchmarks print it beside rates.
 */
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** CPU seconds a process (all its threads) has used, user + system. */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  const stat = pid === undefined ? undefined : readProc(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** CPU seconds the whole machine has been busy (every core, every process; idle and iowait excluded). */
export function machineCpuSeconds(): number | undefined {
  const line = readProc('/proc/stat')?.split('\n')[0];
  if (!line?.startsWith('cpu ')) return undefined;
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / CLOCK_TICKS;
}

/** Milliseconds per operation between two readings, or NaN when /proc is not there. */
export function msPer(before: number | undefined, after: number | undefined, operations: number): number {
  return before === undefined || after === undefined ? NaN : ((after - before) * 1000) / Math.max(1, operations);
}
