import type { ComponentChildren } from 'preact';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';

const estimatedRowHeight = 72;
const overscanPx = 600;
const nearBottomPx = 80;

export interface VirtualListProps<T> {
  items: readonly T[];
  keyOf: (item: T) => string;
  render: (item: T) => ComponentChildren;
  /** Called when the user scrolls near the top (load older). */
  onNearTop?: () => void;
  label: string;
}

/**
 * Renders only the rows in and near the viewport: rows are measured once shown and laid out
 * by their measured (else estimated) heights, so a chat of thousands of messages scrolls
 * with a few dozen DOM nodes. Stays at the bottom while the user is there.
 */
export function VirtualList<T>({ items, keyOf, render, onNearTop, label }: VirtualListProps<T>) {
  const viewport = useRef<HTMLDivElement>(null);
  const heights = useRef(new Map<string, number>());
  const atBottom = useRef(true);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewportHeight, setViewportHeight] = useState(600);
  const [, remeasured] = useState(0);

  const offsets: number[] = [];
  let total = 0;
  for (const item of items) {
    offsets.push(total);
    total += heights.current.get(keyOf(item)) ?? estimatedRowHeight;
  }
  let first = 0;
  while (first < items.length - 1 && offsets[first + 1]! < scrollTop - overscanPx) first++;
  let last = first;
  while (last < items.length - 1 && offsets[last]! < scrollTop + viewportHeight + overscanPx) last++;

  // Rows are measured when shown and whenever they change size (a menu opened, an image
  // loaded); a changed height re-lays the list out.
  const rowObserver = useRef<ResizeObserver>();
  const observed = useRef(new Map<string, HTMLElement>());
  const rows = () =>
    (rowObserver.current ??= new ResizeObserver((entries) => {
      let changed = false;
      for (const entry of entries) {
        const row = entry.target as HTMLElement;
        if (!row.isConnected) continue;
        const height = row.offsetHeight;
        if (heights.current.get(row.dataset.row!) !== height) {
          heights.current.set(row.dataset.row!, height);
          changed = true;
        }
      }
      if (changed) remeasured((n) => n + 1);
    }));
  const track = (key: string, row: HTMLElement | null) => {
    const before = observed.current.get(key);
    if (before === row) return;
    if (before) rows().unobserve(before);
    if (row) {
      observed.current.set(key, row);
      rows().observe(row);
    } else {
      observed.current.delete(key);
    }
  };

  useLayoutEffect(() => {
    const element = viewport.current!;
    const resize = new ResizeObserver(() => setViewportHeight(element.clientHeight));
    resize.observe(element);
    return () => {
      resize.disconnect();
      rowObserver.current?.disconnect();
    };
  }, []);

  // Older rows put above keep the rows the user was reading where they were; at the bottom
  // the list follows new rows.
  const firstKey = useRef<string>();
  useLayoutEffect(() => {
    const element = viewport.current;
    if (!element) return;
    const before = firstKey.current;
    firstKey.current = items.length ? keyOf(items[0]!) : undefined;
    if (atBottom.current) {
      element.scrollTop = element.scrollHeight;
      return;
    }
    if (before === undefined || before === firstKey.current) return;
    const index = items.findIndex((item) => keyOf(item) === before);
    if (index > 0) element.scrollTop += offsets[index]!;
  });

  const onScroll = () => {
    const element = viewport.current!;
    atBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight < nearBottomPx;
    setScrollTop(element.scrollTop);
    if (element.scrollTop < overscanPx) onNearTop?.();
  };

  const jumpToLatest = () => {
    atBottom.current = true;
    viewport.current!.scrollTop = viewport.current!.scrollHeight;
  };

  const shown = items.slice(first, last + 1);
  return (
    <div class="virtual-list-wrap">
      <div ref={viewport} class="virtual-list" onScroll={onScroll} role="log" aria-label={label} aria-live="polite" tabIndex={0} data-testid="message-list">
        <div style={{ height: `${total}px`, position: 'relative' }}>
          {shown.map((item, i) => (
            <div key={keyOf(item)} ref={(row) => track(keyOf(item), row)} data-row={keyOf(item)} class="row" style={{ transform: `translateY(${offsets[first + i]}px)` }}>
              {render(item)}
            </div>
          ))}
        </div>
      </div>
      {!atBottom.current && (
        <button type="button" class="jump" onClick={jumpToLatest}>Jump to latest</button>
      )}
    </div>
  );
}
