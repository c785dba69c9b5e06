// The upgrade graph of spec §11, laid out with dagre: versions as nodes (added in SemVer order),
// an edge from every `upgradableFrom` entry to the software; an exact entry is an edge from that
// version (a dashed node when it is not registered), a range is drawn as its own node holding the
// range text (one node and one edge per range, whatever it matches); suspended versions are greyed. With `path`, the hops of an endpoint are highlighted.
import { Graph, layout } from '@dagrejs/dagre';
import { useLayoutEffect, useMemo, type ReactNode } from 'react';
import { satisfies, valid } from 'semver';
import type { Software } from '../api/client';
import { mark } from '../perf';
import { consoleHref, useLinkDelegation } from './common';
import { ZoomPan } from './ZoomPan';

interface NodeData {
  kind: 'version' | 'ghost' | 'range';
  label: string;
  sub?: string;
  suspended?: boolean;
  width: number;
  height: number;
  x?: number;
  y?: number;
}
interface EdgeData {
  path?: boolean;
  points?: { x: number; y: number }[];
}

const NODE_H = 44;
const widthOf = (text: string): number => Math.max(90, text.length * 8 + 28);

export interface GraphModel {
  nodes: (NodeData & { id: string })[];
  edges: (EdgeData & { from: string; to: string })[];
  width: number;
  height: number;
}

/** Builds and lays out the graph (exported for the timing check of a large catalogue). */
export function buildGraph(software: readonly Software[], path: readonly string[] = []): GraphModel {
  const g = new Graph<Record<string, unknown>, NodeData, EdgeData>({ multigraph: false });
  g.setGraph({ rankdir: 'LR', nodesep: 18, ranksep: 56, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  const registered = new Set(software.map((s) => s.version));
  for (const s of software) {
    g.setNode(`v:${s.version}`, {
      kind: 'version',
      label: s.version,
      sub: s.rolloutStrategy,
      suspended: s.rolloutStrategy === 'suspended',
      width: widthOf(s.version),
      height: NODE_H,
    });
  }
  const rangesOf = new Map<string, string[]>(); // target version -> its range entries
  for (const s of software) {
    for (const entry of s.upgradableFrom) {
      if (valid(entry)) {
        if (!registered.has(entry) && !g.hasNode(`v:${entry}`))
          g.setNode(`v:${entry}`, { kind: 'ghost', label: entry, sub: 'not registered', width: widthOf(entry), height: NODE_H });
        g.setEdge(`v:${entry}`, `v:${s.version}`, {});
      } else {
        const id = `r:${entry}`;
        if (!g.hasNode(id)) {
          const matches = software.filter((x) => safeSatisfies(x.version, entry)).length;
          g.setNode(id, { kind: 'range', label: entry, sub: `range · ${matches} registered`, width: widthOf(entry), height: NODE_H });
        }
        g.setEdge(id, `v:${s.version}`, {});
        rangesOf.set(s.version, [...(rangesOf.get(s.version) ?? []), entry]);
      }
    }
  }
  // The endpoint's hops: current -> next -> … -> goal.
  for (let i = 0; i + 1 < path.length; i++) {
    const a = path[i]!;
    const b = path[i + 1]!;
    if (!g.hasNode(`v:${a}`)) g.setNode(`v:${a}`, { kind: 'ghost', label: a, sub: 'not registered', width: widthOf(a), height: NODE_H });
    if (g.hasEdge(`v:${a}`, `v:${b}`)) g.setEdge(`v:${a}`, `v:${b}`, { path: true });
    else {
      const r = (rangesOf.get(b) ?? []).find((x) => safeSatisfies(a, x));
      if (r) {
        g.setEdge(`v:${a}`, `r:${r}`, { path: true });
        g.setEdge(`r:${r}`, `v:${b}`, { path: true });
      } else g.setEdge(`v:${a}`, `v:${b}`, { path: true });
    }
  }
  layout(g);
  const label = g.graph() as { width?: number; height?: number };
  return {
    nodes: g.nodes().map((id) => ({ id, ...g.node(id) })),
    edges: g.edges().map((e) => ({ from: e.v, to: e.w, ...g.edge(e) })),
    width: label.width ?? 0,
    height: label.height ?? 0,
  };
}

function safeSatisfies(version: string, range: string): boolean {
  try {
    return satisfies(version, range);
  } catch {
    return false;
  }
}

/** The default path: one array, so that the layout is not redone at every render (useMemo compares by reference). */
const NO_PATH: readonly string[] = [];

export function UpgradeGraph({
  app,
  software,
  path = NO_PATH,
  caption,
}: {
  app: string;
  software: readonly Software[];
  path?: readonly string[];
  caption: string;
}): ReactNode {
  const model = useMemo(() => {
    mark('graph-layout-start');
    const m = buildGraph(software, path);
    mark('graph-layout-end');
    return m;
  }, [software, path]);
  useLayoutEffect(() => {
    if (model.nodes.length === 0) return;
    mark('graph-committed'); // the SVG is in the document
    // the frame that shows it: after the next animation frame's paint
    requestAnimationFrame(() => setTimeout(() => mark('graph-painted'), 0));
  }, [model]);
  const onClick = useLinkDelegation();
  const onPath = new Set(path.map((v) => `v:${v}`));
  const positions = useMemo(() => new Map(model.nodes.map((n) => [n.id, { x: n.x ?? 0, y: n.y ?? 0 }])), [model]);
  if (model.nodes.length === 0) return <p className="muted">No software yet: nothing to draw.</p>;
  return (
    <figure className="graph">
      <figcaption>{caption}</figcaption>
      <ZoomPan
        width={model.width}
        height={model.height}
        label={caption}
        locate={(id) => positions.get(id)}
        onClick={onClick}
        defs={
          <defs>
            <marker
              id="arrow"
              viewBox="0 0 10 10"
              refX="10"
              refY="5"
              markerWidth="10"
              markerHeight="10"
              markerUnits="userSpaceOnUse"
              orient="auto-start-reverse"
            >
              <path d="M 0 0 L 10 5 L 0 10 z" fill="#555" />
            </marker>
            <marker
              id="arrow-path"
              viewBox="0 0 10 10"
              refX="10"
              refY="5"
              markerWidth="10"
              markerHeight="10"
              markerUnits="userSpaceOnUse"
              orient="auto-start-reverse"
            >
              <path d="M 0 0 L 10 5 L 0 10 z" fill="#0b57d0" />
            </marker>
          </defs>
        }
      >
        {model.edges.map((e) => (
          <polyline
            key={`${e.from}->${e.to}`}
            className={e.path ? 'edge edge-path' : 'edge'}
            data-edge={`${e.from}->${e.to}`}
            points={(e.points ?? []).map((p) => `${p.x},${p.y}`).join(' ')}
            markerEnd={e.path ? 'url(#arrow-path)' : 'url(#arrow)'}
          />
        ))}
        {model.nodes.map((n) => {
          const x = (n.x ?? 0) - n.width / 2;
          const y = (n.y ?? 0) - n.height / 2;
          const cls = ['node', `node-${n.kind}`, n.suspended ? 'node-suspended' : '', onPath.has(n.id) ? 'node-path' : ''].join(' ');
          const body = (
            <g className={cls} data-node={n.id}>
              <rect x={x} y={y} width={n.width} height={n.height} rx={n.kind === 'range' ? 22 : 6} />
              <text x={n.x} y={(n.y ?? 0) - 4} textAnchor="middle" className="node-label">
                {n.label}
              </text>
              <text x={n.x} y={(n.y ?? 0) + 13} textAnchor="middle" className="node-sub">
                {n.sub}
              </text>
            </g>
          );
          const to = `/apps/${app}/software/${encodeURIComponent(n.label)}`;
          return n.kind === 'version' ? (
            <a key={n.id} href={consoleHref(to)} data-to={to} aria-label={`Version ${n.label}, ${n.sub ?? ''}`}>
              {body}
            </a>
          ) : (
            <g key={n.id} role="img" aria-label={n.kind === 'range' ? `Range ${n.label}` : `Version ${n.label}, not registered`}>
              {body}
            </g>
          );
        })}
      </ZoomPan>
    </figure>
  );
}
