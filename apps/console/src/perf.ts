// Performance marks (User Timing) at the steps of a page, read by the browser tests to report where
// the time goes (test/graph-large.spec.ts); they cost nothing measurable and change no behaviour.

/** `performance.mark('otao:<name>')`, once per page load for each name unless `again`. */
export function mark(name: string, again = false): void {
  const full = `otao:${name}`;
  if (typeof performance === 'undefined' || typeof performance.mark !== 'function') return;
  if (!again && performance.getEntriesByName(full, 'mark').length > 0) return;
  performance.mark(full);
}
