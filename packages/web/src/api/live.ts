import type { CairnEvent } from '@cairn/sdk';
import { useEffect, useRef, useState } from 'react';
import { useCairn } from '../auth/session';
import type { Cairn } from './cairn';

/** What a live view follows: every experiment of a project, or one experiment. */
export type LiveScope = { workspace: string; project: string } | { experiment: string };
export type LiveStatus = 'connecting' | 'live' | 'failed';

interface Hub {
  listeners: Set<(event: CairnEvent) => void>;
  statusListeners: Set<(status: LiveStatus) => void>;
  status: LiveStatus;
  stop: AbortController;
}

// One stream per scope for the whole page, however many panels listen: the table, the charts
// and the header of a project page share the project's stream.
const hubs = new Map<string, Hub>();

function scopeId(scope: LiveScope): string {
  return 'experiment' in scope ? `e:${scope.experiment}` : `p:${scope.workspace}/${scope.project}`;
}

function openHub(cairn: Cairn, scope: LiveScope): Hub {
  const hub: Hub = {
    listeners: new Set(),
    statusListeners: new Set(),
    status: 'connecting',
    stop: new AbortController(),
  };
  const setStatus = (status: LiveStatus) => {
    hub.status = status;
    for (const listener of hub.statusListeners) listener(status);
  };
  const options = {
    signal: hub.stop.signal,
    reconnectBaseDelayMs: 500,
    reconnectMaxDelayMs: 5_000,
    onOpen: () => setStatus('live'),
    onDisconnect: () => setStatus('connecting'),
  };
  const stream =
    'experiment' in scope
      ? cairn.events.experiment(scope.experiment, options)
      : cairn.events.project(scope.workspace, scope.project, options);
  void (async () => {
    try {
      for await (const event of stream) {
        for (const listener of hub.listeners) listener(event);
      }
    } catch {
      if (!hub.stop.signal.aborted) setStatus('failed');
    }
  })();
  return hub;
}

/**
 * Calls `onEvent` for every live event of `scope` (null: follow nothing) and tells whether the
 * stream is up. The SDK reconnects with Last-Event-ID, so nothing is missed across drops; a
 * `reset` event means the server no longer had what was missed, and a listener re-reads.
 */
export function useLiveEvents(scope: LiveScope | null, onEvent: (event: CairnEvent) => void): LiveStatus {
  const cairn = useCairn();
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const [status, setStatus] = useState<LiveStatus>('connecting');
  const id = scope ? scopeId(scope) : null;

  // biome-ignore lint/correctness/useExhaustiveDependencies: the scope object is identified by its id.
  useEffect(() => {
    if (!scope || !id) return;
    let hub = hubs.get(id);
    if (!hub) {
      hub = openHub(cairn, scope);
      hubs.set(id, hub);
    }
    const listener = (event: CairnEvent) => handler.current(event);
    hub.listeners.add(listener);
    hub.statusListeners.add(setStatus);
    setStatus(hub.status);
    const current = hub;
    return () => {
      current.listeners.delete(listener);
      current.statusListeners.delete(setStatus);
      if (current.listeners.size === 0) {
        current.stop.abort();
        hubs.delete(id);
      }
    };
  }, [id, cairn]);

  return status;
}

/** The "● live" badge: static, never animated (animations cost frames on big tables). */
export function liveLabel(status: LiveStatus): string {
  return status === 'live' ? '● live' : status === 'connecting' ? '○ connecting' : '○ offline';
}
