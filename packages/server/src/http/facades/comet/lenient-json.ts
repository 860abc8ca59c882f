import type { FastifyInstance } from 'fastify';

/** Python's json.dumps writes these for float('nan'), float('inf') and -float('inf'). */
const NON_FINITE = /^(?:-?Infinity|NaN)/;

class JsonBodyError extends Error {
  readonly statusCode = 400;
}

/**
 * comet_ml sends JSON with bare NaN, Infinity and -Infinity: `log_other("x", float("nan"))`,
 * `log_system_info`, and end-of-run summaries holding such values (spec §1). Standard JSON has
 * no such tokens, so these bodies would be refused and the client would drop the data. This
 * parser, for the Comet facades only, reads them as the strings "NaN", "Infinity" and
 * "-Infinity", the spelling comet_ml itself uses for metric and parameter values, so the rules
 * that apply to those strings apply here too. Standard JSON takes the fast path unchanged.
 */
export function acceptNonFiniteJson(app: FastifyInstance): void {
  // Fastify's own parser, so __proto__ and constructor.prototype keys stay refused as before.
  const standard = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (text === '') {
      done(new JsonBodyError("Body cannot be empty when content-type is set to 'application/json'"), undefined);
      return;
    }
    standard(request, text, (error, parsed) => {
      if (!error) return done(null, parsed);
      // A second try with the tokens quoted; anything else wrong (a poisoned key) fails it again.
      standard(request, quoteNonFinite(text), (retryError, retried) => {
        if (retryError) {
          done(new JsonBodyError("Body is not valid JSON but content-type is set to 'application/json'"), undefined);
        } else {
          done(null, retried);
        }
      });
    });
  });
}

/** Quotes the non-finite tokens that stand outside string literals; everything else is kept. */
export function quoteNonFinite(text: string): string {
  let out = '';
  let copiedTo = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      continue;
    }
    if (c !== 'N' && c !== 'I' && c !== '-') continue;
    const token = NON_FINITE.exec(text.slice(i, i + 9))?.[0];
    if (!token) continue;
    out += `${text.slice(copiedTo, i)}"${token}"`;
    i += token.length - 1;
    copiedTo = i + 1;
  }
  return out + text.slice(copiedTo);
}
