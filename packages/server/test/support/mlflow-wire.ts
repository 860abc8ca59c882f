import { expect } from 'vitest';
import type { TestContext } from './test-context.js';

// biome-ignore lint/suspicious/noExplicitAny: wire bodies are read field by field, as a client reads them
export type Json = Record<string, any>;

/**
 * Calls MLflow's REST API the way its Python client does: GET fields as query parameters
 * (repeated keys for lists), other methods as a JSON body, the key as a Bearer token.
 */
export function mlflowCaller(context: () => TestContext, base = '/api/2.0/mlflow') {
  function call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: Json, key?: string | null) {
    const t = context();
    const secret = key === undefined ? t.adminKey : key;
    const headers: Record<string, string> = secret ? { authorization: `Bearer ${secret}` } : {};
    if (method === 'GET') {
      const query = new URLSearchParams();
      for (const [name, value] of Object.entries(body ?? {})) {
        for (const v of Array.isArray(value) ? value : [value]) query.append(name, String(v));
      }
      const qs = query.toString();
      return t.app.inject({ method, url: `${base}/${path}${qs ? `?${qs}` : ''}`, headers });
    }
    return t.app.inject({ method, url: `${base}/${path}`, headers, payload: body ?? {} });
  }

  async function ok(method: Parameters<typeof call>[0], path: string, body?: Json, key?: string | null) {
    const response = await call(method, path, body, key);
    expect(response.statusCode, `${path}: ${response.body}`).toBe(200);
    return response.json() as Json;
  }

  async function fails(
    method: Parameters<typeof call>[0],
    path: string,
    body: Json | undefined,
    status: number,
    code: string,
    message?: string | RegExp,
    key?: string | null,
  ) {
    const response = await call(method, path, body, key);
    expect(response.statusCode, response.body).toBe(status);
    const json = response.json() as Json;
    expect(json.error_code).toBe(code);
    if (typeof message === 'string') expect(json.message).toBe(message);
    else if (message) expect(json.message).toMatch(message);
    return json;
  }

  return { call, ok, fails };
}
