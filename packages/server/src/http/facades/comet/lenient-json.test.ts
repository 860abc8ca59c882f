import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { acceptNonFiniteJson, quoteNonFinite } from './lenient-json.js';

describe('quoteNonFinite', () => {
  it('quotes bare NaN and infinities and leaves strings and numbers alone', () => {
    const text = '{"a": NaN, "b": [Infinity, -Infinity, -1.5e3], "c": "NaN \\" Infinity", "d": {"NaN": -2}}';
    expect(JSON.parse(quoteNonFinite(text))).toEqual({
      a: 'NaN',
      b: ['Infinity', '-Infinity', -1500],
      c: 'NaN " Infinity',
      d: { NaN: -2 },
    });
  });

  it('keeps standard JSON as it is', () => {
    const text = '{"x": [1, -2, "N", "I-"], "y": null, "z": "\\\\"}';
    expect(quoteNonFinite(text)).toBe(text);
  });
});

describe('acceptNonFiniteJson', () => {
  it('parses non-finite tokens and still refuses prototype poisoning and broken JSON', async () => {
    const app = Fastify();
    acceptNonFiniteJson(app);
    app.post('/', async (request) => ({ body: request.body }));
    const post = (payload: string) =>
      app.inject({ method: 'POST', url: '/', payload, headers: { 'content-type': 'application/json' } });
    expect((await post('{"a": NaN}')).json()).toEqual({ body: { a: 'NaN' } });
    expect((await post('{"a": 1}')).json()).toEqual({ body: { a: 1 } });
    expect((await post('{"__proto__": {"x": 1}}')).statusCode).toBe(400);
    expect((await post('{"__proto__": {"x": NaN}}')).statusCode).toBe(400);
    expect((await post('{"a": ')).statusCode).toBe(400);
    await app.close();
  });
});
