// Preloaded into a command under test (`node --import <this file> main.js ...`): kills its own process with
// SIGKILL right after a rename whose target's base name is $PREFDYN_TEST_KILL_AFTER (e.g. "step-4", the moment a
// checkpoint lands). A deterministic `kill -9` at a known point, instead of racing a polling loop against the run.
import fs from 'node:fs';
import path from 'node:path';

const target = process.env.PREFDYN_TEST_KILL_AFTER;
const rename = fs.renameSync;
fs.renameSync = (from: fs.PathLike, to: fs.PathLike): void => {
  rename(from, to);
  if (path.basename(String(to)) === target) process.kill(process.pid, 'SIGKILL');
};
