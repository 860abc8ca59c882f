export * from './experiments.schema.js';
