import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, createTestContext, type TestContext } from './support/test-context.js';

const API = '/api/2.0/mlflow';

/**
 * The MLflow route schemas as the facade enforces them: JSON bodies validated as sent (no
 * coercion), query strings coerced, every refusal in MLflow's format and wording, and the
 * limits the routes word themselves still answered with their messages.
 */
describe.each(backends)('MLflow request validation (%s)', (backend) => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext(backend);
  });
  afterAll(async () => {
    await t?.close();
  });

  const post = (path: string, payload: string | object) =>
    t.request('POST', `${API}/${path}`, {
      key: null,
      headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
  const get = (path: string) =>
    t.request('GET', `${API}/${path}`, { key: null, headers: { authorization: `Bearer ${t.adminKey}` } });
  const refusal = (response: Awaited<ReturnType<typeof post>>) => {
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().error_code).toBe('INVALID_PARAMETER_VALUE');
    return response.json().message as string;
  };

  it('refuses a body field of the wrong type instead of coercing it, in MLflow words', async () => {
    expect(refusal(await post('experiments/create', { name: false }))).toBe(
      "Invalid value false for parameter 'name' supplied. Hint: Value was of type 'bool'. See the API docs for more information about request parameters.",
    );
    expect(refusal(await post('runs/search', { experiment_ids: 'not-a-list' }))).toMatch(
      /^Invalid value "not-a-list" for parameter 'experiment_ids' supplied/,
    );
    expect(refusal(await post('experiments/search', 'null'))).toBe('Request body must be a JSON object.');
  });

  it('names nested fields and treats null and "" as missing, as MLflow does', async () => {
    expect(refusal(await post('runs/log-batch', { run_id: 'r', tags: [{ value: 'v' }] }))).toBe(
      "Missing value for required parameter 'tags[0].key'.",
    );
    expect(refusal(await post('experiments/create', { name: null }))).toBe(
      "Missing value for required parameter 'name'.",
    );
    expect(refusal(await post('experiments/create', { name: '' }))).toBe(
      "Missing value for required parameter 'name'.",
    );
  });

  it('coerces query strings and leaves worded limits to the routes', async () => {
    const created = await post('experiments/create', { name: `validation-${backend}-${Date.now()}` });
    expect(created.statusCode, created.body).toBe(200);
    const search = await get('experiments/search?max_results=2&view_type=ALL');
    expect(search.statusCode, search.body).toBe(200);
    expect(refusal(await get('experiments/search?max_results=50001'))).toBe(
      "Invalid value 50001 for parameter 'max_results' supplied. It must be at most 50000",
    );
    expect(refusal(await get('experiments/search?view_type=SOMETIMES'))).toMatch(/^Invalid value "SOMETIMES"/);
  });

  it('decodes a body sent as a JSON string holding the JSON, as old clients send it', async () => {
    const name = `double-encoded-${backend}-${Date.now()}`;
    const created = await post('experiments/create', JSON.stringify(JSON.stringify({ name })));
    expect(created.statusCode, created.body).toBe(200);
    expect(refusal(await post('experiments/create', JSON.stringify('{not json')))).toBe(
      'Request body is not valid JSON.',
    );
  });
});
