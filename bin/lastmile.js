#!/usr/bin/env node
// lastmile's command line. Product modules and lastmile itself are TypeScript, loaded without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
