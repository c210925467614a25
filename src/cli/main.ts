#!/usr/bin/env node
// The `prefdyn` executable: all logic is in run.ts, so tests can import it without running it.
import { runMain } from './run.js';

runMain(process.argv.slice(2));
