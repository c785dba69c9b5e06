// Zoom and pan for the upgrade graph (d3-zoom on the SVG): drag to move, Ctrl/⌘ + wheel or a
// pinch to zoom (a plain wheel scrolls the page), and from the keyboard — the viewport is focusable:
// arrow keys move, + and − zoom, 0 fits the whole graph, 1 shows it at its size; the buttons do
// the same. A version node that gets focus (Tab) is brought into view. The transform is set on the
// SVG group directly, not through React state: a graph of 200 versions is not re-rendered while it moves.
import { select } from 'd3-selection';
import { zoom as d3zoom, zoomIdentity, zoomTransform, type ZoomBehavior } from 'd3-zoom';
import { useEffect, useId, useRef, type FocusEvent, type KeyboardEvent, type MouseEvent, type ReactNode } from 'react';

const MAX_HEIGHT = 560;
const STEP = 1.25;
const PAN = 80;

export function ZoomPan({
  width,
  height,
  label,
  locate,
  onClick,
  defs,
  children,
}: {
  /** The drawing's size at scale 1. */
  width: number;
  height: number;
  label: string;
  /** The centre of a node (`data-node` id) in drawing coordinates, to bring a focused node into view. */
  locate: (id: string) => { x: number; y: number } | undefined;
  onClick?: (e: MouseEvent) => void;
  defs?: ReactNode;
  children: ReactNode;
}): ReactNode {
  const id = useId();
  const svgRef = useRef<SVGSVGElement>(null);
  const groupRef = useRef<SVGGElement>(null);
  const viewRef = useRef<HTMLDivElement>(null);
  const zoomRef = useRef<ZoomBehavior<SVGSVGElement, unknown>>(undefined);
  const viewHeight = Math.min(height, MAX_HEIGHT);

  useEffect(() => {
    const svg = svgRef.current;
    if (!svg) return;
    const z = d3zoom<SVGSVGElement, unknown>()
      .scaleExtent([0.05, 4])
      .clickDistance(4) // a drag is not a click on the version under the pointer
      .filter((e: Event) => (e.type === 'wheel' ? (e as WheelEvent).ctrlKey || (e as WheelEvent).metaKey : !(e as globalThis.MouseEvent).button))
      .on('zoom', (e: { transform: { k: number; toString(): string } }) => {
        groupRef.current?.setAttribute('transform', e.transform.toString());
        viewRef.current?.setAttribute('data-scale', e.transform.k.toFixed(2));
      });
    zoomRef.current = z;
    const sel = select(svg);
    sel.call(z).on('dblclick.zoom', null);
    return () => {
      sel.on('.zoom', null);
    };
  }, []);

  const act = (what: 'in' | 'out' | 'fit' | 'reset' | [number, number]): void => {
    const svg = svgRef.current;
    const z = zoomRef.current;
    if (!svg || !z) return;
    const sel = select(svg);
    if (what === 'in') z.scaleBy(sel, STEP);
    else if (what === 'out') z.scaleBy(sel, 1 / STEP);
    else if (what === 'reset') z.transform(sel, zoomIdentity);
    else if (what === 'fit') {
      const w = svg.clientWidth || width;
      const k = Math.min(1, w / width, viewHeight / height);
      z.transform(sel, zoomIdentity.translate((w - width * k) / 2, (viewHeight - height * k) / 2).scale(k));
    } else {
      const k = zoomTransform(svg).k;
      z.translateBy(sel, what[0] / k, what[1] / k);
    }
  };

  const onKeyDown = (e: KeyboardEvent): void => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const moves: Record<string, Parameters<typeof act>[0]> = {
      ArrowLeft: [PAN, 0],
      ArrowRight: [-PAN, 0],
      ArrowUp: [0, PAN],
      ArrowDown: [0, -PAN],
      '+': 'in',
      '=': 'in',
      '-': 'out',
      '0': 'fit',
      '1': 'reset',
    };
    const m = moves[e.key];
    if (m === undefined) return;
    e.preventDefault();
    act(m);
  };

  // a node reached with Tab is moved into view when it is outside
  const onFocus = (e: FocusEvent): void => {
    const svg = svgRef.current;
    const z = zoomRef.current;
    const node = e.target.closest?.('[data-node]') ?? e.target.querySelector?.('[data-node]');
    const at = node ? locate(node.getAttribute('data-node') ?? '') : undefined;
    if (!svg || !z || !at) return;
    const box = node!.getBoundingClientRect();
    const frame = svg.getBoundingClientRect();
    const inside = box.left >= frame.left && box.top >= frame.top && box.right <= frame.right && box.bottom <= frame.bottom;
    if (!inside) z.translateTo(select(svg), at.x, at.y);
  };

  return (
    <>
      <div className="zoom-tools" role="toolbar" aria-label="Zoom the graph" aria-controls={`${id}-view`}>
        <button type="button" className="secondary" onClick={() => act('in')}>
          Zoom in
        </button>
        <button type="button" className="secondary" onClick={() => act('out')}>
          Zoom out
        </button>
        <button type="button" className="secondary" onClick={() => act('fit')}>
          Fit
        </button>
        <button type="button" className="secondary" onClick={() => act('reset')}>
          Actual size
        </button>
        <span className="muted small" id={`${id}-help`}>
          Drag to move, Ctrl + wheel to zoom; keys when the graph has focus: arrows, + −, 0 fit, 1 actual size.
        </span>
      </div>
      <div
        id={`${id}-view`}
        ref={viewRef}
        className="graph-view"
        tabIndex={0}
        role="group"
        aria-label={`${label} (movable view)`}
        aria-describedby={`${id}-help`}
        data-scale="1.00"
        onKeyDown={onKeyDown}
        onFocus={onFocus}
      >
        <svg ref={svgRef} width="100%" height={viewHeight} role="group" aria-label={label} onClick={onClick}>
          {defs}
          <g ref={groupRef}>{children}</g>
        </svg>
      </div>
    </>
  );
}
