#!/usr/bin/env node
// Thin launcher: the CLI is compiled by `npm ci` (root `prepare`) into ../dist.
import '../dist/main.js';
