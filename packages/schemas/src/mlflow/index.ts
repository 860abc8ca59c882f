export * from './artifacts.schema.js';
export * from './logged-models.schema.js';
