export * from './tracking.schema.js';
