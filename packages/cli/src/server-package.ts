/**
 * The server package (Fastify, drivers, schemas) takes about a second to load, so it is imported
 * only once a command that needs it runs: help and usage errors answer at once.
 */
type Server = typeof import('@cairn/server');

let server: Server | undefined;

export async function loadServer(): Promise<Server> {
  server ??= await import('@cairn/server');
  return server;
}

/** The server package if a command loaded it (to recognise its error classes). */
export function loadedServer(): Server | undefined {
  return server;
}
