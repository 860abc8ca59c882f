export * from './events.schema.js';
export * from './metrics.schema.js';
export * from './series.schema.js';
export * from './tables.schema.js';
export * from './webhooks.schema.js';
