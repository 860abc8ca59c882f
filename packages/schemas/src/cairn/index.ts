export * from './metrics.schema.js';
export * from './webhooks.schema.js';
