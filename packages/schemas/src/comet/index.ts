export * from './common.schema.js';
export * from './projects.schema.js';
