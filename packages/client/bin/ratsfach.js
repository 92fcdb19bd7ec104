#!/usr/bin/env node
// The `ratsfach` command: runs the compiled entry point (`npx tsc -b` builds it).
import '../dist/cli/main.js';
