export * from './assets.schema.js';
export * from './charts.schema.js';
export * from './common.schema.js';
export * from './experiment-data.schema.js';
export * from './experiments.schema.js';
export * from './projects.schema.js';
export * from './registry.schema.js';
