import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * The app's own pages and files may load nothing from elsewhere; styles may be inline (charting
 * and layout libraries set style attributes); images may be data: and blob: URLs (chart exports);
 * frames only from this server (the sandboxed html documents); nobody may frame the app. These
 * replace the API's policy; the other security headers are everyone's (security-headers.ts).
 */
const WEB_APP_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
    "connect-src 'self'; font-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; " +
    "form-action 'self'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
};

/** Vite names its output under assets/ by content hash: a name never changes its bytes. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** index.html names the current hashes, so it is revalidated on every load. */
const NO_CACHE = 'no-cache';
/** favicon and the like keep their names across builds. */
const SHORT = 'public, max-age=3600';

/** Paths the web app never answers: the APIs and the health check keep their own 404s. */
const NOT_THE_APP = ['/api/', '/clientlib/'];
const NOT_THE_APP_EXACT = new Set(['/api', '/clientlib', '/healthz']);

/**
 * Serves the built web UI (a single-page app) from `webDir`: its files as they are, and
 * index.html for every other GET path outside the APIs, so that deep links load the app, which
 * routes in the browser. It answers through the root not-found handler, so each API keeps its
 * own 404 for unknown paths under its prefix.
 */
export async function registerWebApp(app: FastifyInstance, webDir: string): Promise<void> {
  const root = resolve(webDir);
  if (!existsSync(join(root, 'index.html'))) {
    app.log.warn({ webDir: root }, 'the web UI is not built: / answers 503 until it is (npm run build)');
  }
  // Files are sent from the not-found handler only; the plugin registers no route of its own.
  await app.register(fastifyStatic, {
    root,
    serve: false,
    preCompressed: true,
    cacheControl: false,
    dotfiles: 'deny',
  });

  app.setNotFoundHandler(async (request, reply) => {
    const path = pathOf(request);
    if ((request.method !== 'GET' && request.method !== 'HEAD') || path === undefined || !isAppPath(path)) {
      return reply
        .code(404)
        .send({ message: `Route ${request.method}:${request.url} not found`, error: 'Not Found', statusCode: 404 });
    }
    reply.headers(WEB_APP_HEADERS);
    const file = await fileIn(root, path);
    if (file !== undefined) {
      reply.header('cache-control', file.startsWith('assets/') ? IMMUTABLE : file === 'index.html' ? NO_CACHE : SHORT);
      return sendFile(reply, file);
    }
    // A hashed file that is gone belongs to an older build: the page that asked must reload, and
    // index.html in its place would only fail as a script.
    if (path.startsWith('/assets/')) return reply.code(404).type('text/plain; charset=utf-8').send('not found\n');
    if (!(await isFile(join(root, 'index.html')))) return notBuilt(reply);
    return sendFile(reply.header('cache-control', NO_CACHE), 'index.html');
  });
}

/** A file of the build; its .br or .gz twin when there is one and the client takes it. */
function sendFile(reply: FastifyReply, file: string): FastifyReply {
  return reply.code(200).header('vary', 'accept-encoding').sendFile(file);
}

function isAppPath(path: string): boolean {
  return !NOT_THE_APP_EXACT.has(path) && !NOT_THE_APP.some((prefix) => path.startsWith(prefix));
}

/** The decoded path of the request; undefined when it does not decode. */
function pathOf(request: FastifyRequest): string | undefined {
  const raw = request.url.split('?')[0] ?? '/';
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/**
 * The file the path names inside `root`, relative to it, or undefined: for directories, for
 * paths that leave root, and for dot-files (never part of a build).
 */
async function fileIn(root: string, path: string): Promise<string | undefined> {
  const relative = path.replace(/^\/+/, '');
  if (relative === '' || relative.includes('\0') || relative.split('/').some((part) => part.startsWith('.'))) {
    return undefined;
  }
  const absolute = resolve(root, relative);
  if (!absolute.startsWith(root + sep)) return undefined;
  return (await isFile(absolute))
    ? absolute
        .slice(root.length + 1)
        .split(sep)
        .join('/')
    : undefined;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function notBuilt(reply: FastifyReply): FastifyReply {
  return reply
    .code(503)
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(
      '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Cairn: the web UI is not built</title></head>\n' +
        "<body><h1>The web UI is not built</h1><p>Cairn's API is running, but the web UI's files are missing. " +
        'Build them with <code>npm run build</code> in the Cairn checkout (or point <code>CAIRN_WEB_DIR</code> ' +
        'at a built copy), then reload this page.</p></body></html>\n',
    );
}
