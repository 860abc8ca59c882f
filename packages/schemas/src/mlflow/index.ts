export * from './artifacts.schema.js';
export * from './logged-models.schema.js';
export * from './requests.schema.js';
export * from './tracking.schema.js';
