import { describe, expect, it } from 'vitest';
import { LevelLogger } from './http.js';
import { followEvents, parseEventStream, type RawEvent } from './sse.js';

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function parse(chunks: string[]): Promise<RawEvent[]> {
  const events: RawEvent[] = [];
  for await (const event of parseEventStream(streamOf(chunks))) events.push(event);
  return events;
}

describe('parseEventStream', () => {
  it('parses ids, names, multi-line data and retry; skips comments and events without data', async () => {
    const events = await parse([
      ': keep-alive\n\n',
      'id: 1\nevent: points\ndata: {"a":\ndata: 1}\n\n',
      'retry: 2500\nevent: empty\n\n',
      'data: plain\n\n',
    ]);
    expect(events).toEqual([
      { id: '1', event: 'points', data: '{"a":\n1}', retry: undefined },
      // The id carries over to later events until a new one is set, as the standard says.
      { id: '1', event: 'message', data: 'plain', retry: undefined },
    ]);
  });

  it('handles CRLF and CR line ends and chunks cut anywhere, even inside a CRLF or a character', async () => {
    const text = 'id: 7\r\nevent: values\r\ndata: é\r\n\r\nid: 8\rdata: x\r\r';
    const bytes = new TextEncoder().encode(text);
    // One byte per chunk: splits the two bytes of "é" and every CRLF.
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const byte of bytes) controller.enqueue(new Uint8Array([byte]));
        controller.close();
      },
    });
    const events: RawEvent[] = [];
    for await (const event of parseEventStream(stream)) events.push(event);
    expect(events.map((e) => [e.id, e.event, e.data])).toEqual([
      ['7', 'values', 'é'],
      ['8', 'message', 'x'],
    ]);
  });
});

describe('followEvents', () => {
  it('reports each opened stream and each drop, so a view shows "live" before any event arrives', async () => {
    const calls: string[] = [];
    const stop = new AbortController();
    let opened = 0;
    const open = async () => {
      opened++;
      // The first stream carries only the position (an id without data) and ends; the second one event.
      return new Response(streamOf(opened === 1 ? ['id: 1\n\n'] : ['id: 2\nevent: reset\ndata: {}\n\n']));
    };
    const events = followEvents(
      open,
      {
        signal: stop.signal,
        reconnectBaseDelayMs: 1,
        reconnectMaxDelayMs: 1,
        onOpen: () => calls.push('open'),
        onDisconnect: () => calls.push('drop'),
      },
      new LevelLogger(console, 'off'),
    );
    for await (const event of events) {
      calls.push(`event ${event.event}`);
      stop.abort();
    }
    expect(calls).toEqual(['open', 'drop', 'open', 'event reset']);
  });
});
