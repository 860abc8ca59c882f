export { type Config, ConfigError, loadConfig } from './config.js';
export type { AuditActor } from './core/audit.service.js';
export type { Core } from './core/core.js';
export { ALL_SCOPES, type ApiKey, type AuditEvent, type Scope } from './core/entities.js';
export { DomainError } from './core/errors.js';
export { experimentRid, modelRid } from './core/rids.js';
export { signInLink } from './core/sessions.service.js';
export { buildApp } from './http/app.js';
export { openCore, type RunningServer, startServer } from './main.js';
