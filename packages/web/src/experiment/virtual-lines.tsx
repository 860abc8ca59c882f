import { useVirtualizer } from '@tanstack/react-virtual';
import { type ReactNode, useEffect, useRef } from 'react';

export const LINE_HEIGHT = 20;

/**
 * A monospace list of lines, only the visible ones in the DOM: a log or a patch of a million
 * lines scrolls like one of a hundred. Lines do not wrap; the box scrolls sideways instead.
 * `onNearEnd` fires when the last rendered line is within a screen of the end (to load more).
 */
export function VirtualLines({
  count,
  renderLine,
  label,
  onNearEnd,
  className,
  resetKey,
}: {
  count: number;
  renderLine: (index: number) => ReactNode;
  label: string;
  onNearEnd?: () => void;
  className?: string;
  /** When it changes (a new filter), the list starts again from the top. */
  resetKey?: string;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scroller.current,
    estimateSize: () => LINE_HEIGHT,
    overscan: 20,
  });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items[items.length - 1]?.index ?? -1;
  // biome-ignore lint/correctness/useExhaustiveDependencies: the key is the trigger; its value is not read.
  useEffect(() => {
    scroller.current?.scrollTo({ top: 0 });
  }, [resetKey]);
  useEffect(() => {
    if (onNearEnd && count > 0 && lastIndex >= count - 50) onNearEnd();
  }, [lastIndex, count, onNearEnd]);
  return (
    <div
      ref={scroller}
      className={`virtual-lines mono ${className ?? ''}`}
      role="log"
      aria-label={label}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard to scroll it.
      tabIndex={0}
    >
      <div style={{ height: virtualizer.getTotalSize(), position: 'relative', minWidth: '100%', width: 'max-content' }}>
        {items.map((item) => (
          <div
            key={item.key}
            className="virtual-line"
            style={{
              position: 'absolute',
              top: 0,
              left: 0,
              minWidth: '100%',
              height: LINE_HEIGHT,
              transform: `translateY(${item.start}px)`,
            }}
          >
            {renderLine(item.index)}
          </div>
        ))}
      </div>
    </div>
  );
}
