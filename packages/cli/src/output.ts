import Table from 'cli-table3';

/** Where a command writes: stdout for results, stderr for progress, logs and errors. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  readonly stdoutTty: boolean;
  readonly stderrTty: boolean;
}

export const processIo: Io = {
  out: (t) => void process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  err: (t) => void process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
  stdoutTty: process.stdout.isTTY === true,
  stderrTty: process.stderr.isTTY === true,
};

/** A plain table (no colours, so the output is the same in a terminal and in a CI log). */
export function table(head: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const t = new Table({ head: [...head], style: { head: [], border: [], compact: false } });
  for (const r of rows) t.push(r.map(cell));
  return t.toString();
}

/** Two columns: field and value. */
export function fields(entries: readonly (readonly [string, unknown])[]): string {
  const t = new Table({ style: { head: [], border: [] } });
  for (const [k, v] of entries) if (v !== undefined) t.push({ [k]: cell(v) });
  return t.toString();
}

export function cell(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

export const json = (v: unknown): string => JSON.stringify(v, null, 2);

export const percent = (rate: number | undefined): string => (rate === undefined || !Number.isFinite(rate) ? '-' : `${(rate * 100).toFixed(1)}%`);

const SPARKS = '▁▂▃▄▅▆▇█';
/** A sparkline of the last `width` values. */
export function sparkline(values: readonly number[], width = 24): string {
  const v = values.slice(-width);
  if (v.length === 0) return '';
  const max = Math.max(...v);
  return v.map((x) => (max <= 0 ? SPARKS[0] : SPARKS[Math.min(SPARKS.length - 1, Math.round((x / max) * (SPARKS.length - 1)))])).join('');
}

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}
