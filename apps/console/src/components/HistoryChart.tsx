// The rollout history of spec §6.3 drawn with uPlot, loaded only when there is a history to draw.
import { useEffect, useRef, type ReactNode } from 'react';
import type { HistoryBucket } from '../api/client';

const SERIES: [Exclude<keyof HistoryBucket, 'start'>, string][] = [
  ['offered', '#0b57d0'],
  ['applied', '#146c2e'],
  ['failed', '#b3261e'],
  ['timedOut', '#8a5300'],
  ['rolledBack', '#6b3fa0'],
];

/** The buckets of `GET …/rollout/history` over the range it answered for (`since`, `until`: Kaa dates). */
export function HistoryChart({ buckets, since, until, label }: { buckets: readonly HistoryBucket[]; since: string; until: string; label: string }): ReactNode {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let plot: { destroy(): void } | undefined;
    let cancelled = false;
    void (async () => {
      const [{ default: UPlot }] = await Promise.all([import('uplot'), import('uplot/dist/uPlot.min.css')]);
      if (cancelled || !box.current) return;
      const xs = buckets.map((b) => Date.parse(b.start) / 1000);
      const data = [xs, ...SERIES.map(([k]) => buckets.map((b) => b[k]))];
      plot = new UPlot(
        {
          width: Math.min(900, box.current.clientWidth || 800),
          height: 260,
          series: [{}, ...SERIES.map(([k, stroke]) => ({ label: String(k), stroke, width: 2 }))],
          // the whole range asked, so a single bucket is not stretched over years
          scales: { x: { time: true, range: [Date.parse(since) / 1000, Date.parse(until) / 1000] } },
          axes: [{}, { label: 'endpoints' }],
        },
        data as unknown as [number[], ...number[][]],
        box.current,
      );
    })();
    return () => {
      cancelled = true;
      plot?.destroy();
    };
  }, [buckets, since, until]);
  return <div ref={box} role="img" aria-label={label} className="chart" data-points={buckets.length} />;
}
