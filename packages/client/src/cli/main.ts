import { homedir } from 'node:os';
import { askHiddenOn } from './askHidden.js';
import { runCli } from './program.js';

// The entry point of the `ratsfach` bin: the only place that reads the process's surroundings.
const exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  ask: process.stdin.isTTY ? askHiddenOn(process.stdin, process.stderr) : undefined,
  home: homedir(),
  platform: process.platform,
  now: () => new Date(),
  onStop: (stop) => {
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    };
  },
});
process.exitCode = exitCode;
