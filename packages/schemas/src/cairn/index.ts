export * from './experiment-table.schema.js';
export * from './metrics.schema.js';
export * from './tables.schema.js';
export * from './webhooks.schema.js';
