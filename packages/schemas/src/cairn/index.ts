export * from './experiment-table.schema.js';
export * from './experiments.schema.js';
export * from './logged.schema.js';
export * from './metrics.schema.js';
export * from './projects.schema.js';
export * from './tables.schema.js';
export * from './webhooks.schema.js';
