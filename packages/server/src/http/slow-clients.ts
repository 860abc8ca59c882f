import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * How often Node looks for requests past the headers or request timeout. Its default (30 s) would
 * let a 5 s timeout run to 35 s; a tenth of the shortest timeout keeps them close to what is set,
 * and a sweep over the open connections is cheap.
 */
export function connectionsCheckingInterval(headersTimeoutMillis: number, requestTimeoutMillis: number): number {
  const shortest =
    requestTimeoutMillis > 0 ? Math.min(headersTimeoutMillis, requestTimeoutMillis) : headersTimeoutMillis;
  return Math.min(30_000, Math.max(10, Math.floor(shortest / 10)));
}

/**
 * Cuts off a request body that sends nothing for `idleMillis`: a client that opens an upload and
 * stalls (or trickles nothing) would otherwise hold its connection, its upload slot and its
 * temporary blob for ever. An idle timeout rather than a total one, so an upload of a large file
 * over a slow link still completes as long as its bytes keep coming.
 *
 * The socket's own timeout measures the idleness: set when a request with a body starts and
 * cleared when the body has ended. When it fires, Node destroys the socket (nothing else listens
 * for it); the handler reading the body sees the stream fail and stores nothing.
 */
export function cutOffIdleBodies(app: FastifyInstance, idleMillis: number): void {
  if (idleMillis <= 0) return;
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const { headers } = request;
    const declared = headers['content-length'];
    if ((declared === undefined || declared === '0') && headers['transfer-encoding'] === undefined) return;
    const socket = request.raw.socket;
    // Injected requests (tests) have a stand-in socket without timeouts.
    if (typeof socket?.setTimeout !== 'function') return;
    socket.setTimeout(idleMillis);
    request.raw.once('end', () => {
      // After an early answer Node has set the connection's keep-alive timeout: leave it.
      if (!reply.raw.writableFinished) socket.setTimeout(0);
    });
  });
}
