// `prefdyn train`: options and config file in, run folder out (architecture.md contract 4).
import fs from 'node:fs';
import path from 'node:path';
import { type Command } from './command.js';
import { UserError } from '../util/errors.js';
import { checkOutputFolder } from '../util/output-path.js';
import { addSourceOptions, reportSkip, sourceOptionsFromArgs, SOURCE_OPTIONS_HELP } from './data-options.js';
import { cliName, OPTION_DEFS, readConfigFile, resolveConfig, trainOptionSpec } from '../train/config.js';
import { findCheckpoint, readCheckpoint } from '../train/checkpoint.js';
import { setupRun } from '../train/setup.js';
import { train } from '../train/trainer.js';
import { stderrProgress } from '../train/progress.js';
import { startDashboardProcess } from '../server/dashboard-process.js';
import { readRunConfig, writeRunConfig, writeRunSummary, type RunSourceOptions } from '../train/run-folder.js';

const { flip: _flip, ...trainOptions } = trainOptionSpec();
void _flip;

const help = `Usage: prefdyn train --model DIR --data SRC --out DIR [options]
       prefdyn train --config FILE.yaml [--key value ...]
       prefdyn train --resume RUN_DIR

Trains with a preference objective and logs, at every step, the metrics of every group (behaviour)
and of "all", for the training batch and (every --eval-every steps) the held-out test split.
Defaults are the paper's where it has one (Im & Li 2024), else TRL's / Hugging Face's.
Objectives: dpo (TRL "sigmoid"; --label-smoothing eps gives conservative DPO), robust (conservative
DPO, -(1-eps) log s(h) - eps log s(-h), eps default 0.1 and > 0; TRL's "robust" estimator of Chowdhury
et al. is a different loss and not offered), ipo, hinge. Step 0 is logged before any update.
Reference log-probs and last-layer hidden states are cached under $PREFDYN_CACHE_DIR (default ./.cache),
keyed by the model files' content, the pairs' token ids, the kernel set and the batch size.
Ctrl-C stops after the current step with a checkpoint (exit 130); --resume continues it exactly.

Options (also as keys of the YAML/JSON --config file, e.g. "lr: 1e-5"; the command line wins):
  --config FILE          YAML or JSON file of options
  --resume DIR           continue a run folder (or one of its checkpoints) exactly where it stopped
  --serve                also start the live dashboard of this run (prefdyn serve RUN_DIR on a free
                         loopback port) and print its URL; it stops when the training ends
${OPTION_DEFS.map((d) => `  --${cliName(d.key).padEnd(28)} ${d.help}`).join('\n')}

${SOURCE_OPTIONS_HELP.split('\n')
  .filter((l) => !l.includes('--flip'))
  .join('\n')}

Example:
  prefdyn train --model models/tiny --data persona:agreeableness,subscribes-to-Buddhism --mode lora --steps 20 --out runs/lora
`;

export const command: Command = {
  name: 'train',
  summary: 'DPO (and IPO, hinge, robust) training with per-group learning dynamics',
  help,
  options: addSourceOptions({
    ...trainOptions,
    config: { type: 'string' },
    resume: { type: 'string' },
    serve: { type: 'boolean' },
  }),
  async run(args) {
    const v = args.values;
    let resume: { dir: string; runDir: string } | undefined;
    const cli: Record<string, unknown> = {};
    for (const d of OPTION_DEFS) {
      const raw = v[cliName(d.key)];
      if (raw !== undefined) cli[d.key] = raw;
    }
    let file: { path: string; values: Record<string, unknown> } | undefined;
    let source: RunSourceOptions = sourceOptionsFromArgs(v);
    if (typeof v.resume === 'string') {
      const others = [
        ...new Set([
          'config',
          'serve',
          ...Object.keys(addSourceOptions({})),
          ...OPTION_DEFS.map((d) => cliName(d.key)),
        ]),
      ].filter((k) => v[k] !== undefined);
      if (others.length > 0)
        throw new UserError(
          `--resume takes no other options (got ${others.map((k) => `--${k}`).join(', ')}): the run continues with its saved config.json`,
        );
      const dir = findCheckpoint(v.resume);
      const runDir = path.resolve(dir, '..', '..');
      const saved = readRunConfig(runDir);
      file = { path: saved.file, values: { ...saved.config } };
      source = saved.source;
      resume = { dir, runDir };
    } else if (typeof v.config === 'string') {
      file = { path: v.config, values: readConfigFile(v.config) };
    }
    let resolved;
    try {
      resolved = resolveConfig(file, cli);
    } catch (err) {
      throw new UserError((err as Error).message);
    }
    const c = resolved.config;
    const runDir = resume?.runDir ?? c.out;
    if (!resume) checkOutputFolder('--out', runDir);
    if (!resume && fs.existsSync(path.join(runDir, 'metrics.jsonl'))) {
      throw new UserError(
        `${runDir} already holds a run (metrics.jsonl); choose another --out, or continue it with --resume ${runDir}`,
      );
    }
    const checkpoint = resume ? readCheckpoint(resume.dir) : undefined;
    if (checkpoint && checkpoint.state.step >= checkpoint.state.total_steps) {
      // Nothing to train: summary.json already describes the finished run.
      process.stdout.write(
        `already complete: ${checkpoint.state.step}/${checkpoint.state.total_steps} steps; run folder ${runDir}\n`,
      );
      return 0;
    }
    const setup = await setupRun(c, { ...source, onSkip: reportSkip }, resume?.dir);
    fs.mkdirSync(runDir, { recursive: true });
    if (!resume) writeRunConfig(runDir, resolved, setup, source);
    for (const note of setup.notes) process.stderr.write(`prefdyn: ${note}\n`);
    let stop = false;
    const onSigint = () => {
      if (stop) process.exit(130);
      stop = true;
      process.stderr.write('\nprefdyn: stopping after this step (Ctrl-C again to quit now)\n');
    };
    process.on('SIGINT', onSigint);
    const dashboard = v.serve === true ? await startDashboardProcess(runDir) : undefined;
    if (dashboard) process.stderr.write(`prefdyn: live dashboard at ${dashboard.url}\n`);
    try {
      const result = await train({
        config: c,
        runDir,
        policy: setup.policy,
        data: setup.data,
        resume: checkpoint,
        progress: stderrProgress(checkpoint?.state.step ?? 0),
        stopRequested: () => stop,
      });
      writeRunSummary(runDir, resolved, setup, result);
      const all = result.lastTest?.at(-1) ?? result.lastTrain?.at(-1);
      process.stdout.write(
        `${result.status} ${result.steps}/${result.totalSteps} steps; ${all ? `${result.lastTest ? 'test' : 'train'} loss ${all.values.loss.toFixed(4)}, policy accuracy ${all.values['policy/accuracies'].toFixed(3)}; ` : ''}run folder ${runDir}\n`,
      );
      return result.status === 'interrupted' ? 130 : 0;
    } finally {
      process.off('SIGINT', onSigint);
      dashboard?.stop();
    }
  },
};
