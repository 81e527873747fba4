#!/usr/bin/env node
// Runs the TypeScript CLI straight from the checkout: no build step.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
