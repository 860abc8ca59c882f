import { Cairn } from '@cairn/sdk';

/**
 * The SDK client of the page. It never holds an API key: the session cookie authenticates, and
 * writes echo the session's CSRF token (the server refuses cookie writes without it).
 */
export function createCairn(csrfToken?: string): Cairn {
  return new Cairn({
    url: window.location.origin,
    headers: csrfToken ? { 'x-csrf-token': csrfToken } : {},
    // A screen shows its own error with a retry button: one quick retry is enough here.
    maxRetries: 1,
    logLevel: 'error',
  });
}

export type { Cairn };
