export * from './metrics.schema.js';
