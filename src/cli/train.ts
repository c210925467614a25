// `prefdyn train`: options and config file in, run folder out (architecture.md contract 4).
import { notice, type Command } from './command.js';
import { UsageError } from '../util/errors.js';
import { checkOutputFolder } from '../util/output-path.js';
import { addSourceOptions, reportSkip, sourceOptionsFromArgs, SOURCE_OPTIONS_HELP } from './data-options.js';
import { cliName, OPTION_DEFS, optionHelp, readConfigFile, resolveConfig, trainOptionSpec } from '../train/config.js';
import { isRunFolderEntry } from '../train/run-folder.js';
import { stderrProgress } from '../util/progress.js';
import { runTraining, type TrainingRequest } from '../train/run-training.js';
import { startDashboardProcess } from '../server/dashboard-process.js';

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
Ctrl-C (SIGINT) or SIGTERM stops after the current step with a checkpoint (exit 130 or 143); --resume
continues it exactly. The run folder is locked (a lock file .NAME.lock beside it): a second process on
it stops with exit 1. --resume checks that the model, the reference, the data and the checkpoint's files
are those the run started with, and refuses any change (--force continues anyway, with a warning); a
run stopped before its first checkpoint starts again from step 0.

Options (also as keys of the YAML/JSON --config file, e.g. "lr: 1e-5"; the command line wins):
  --config FILE          YAML or JSON file of options
  --resume DIR           continue a run folder (or one of its checkpoints) exactly where it stopped
  --force                with --resume: continue although inputs or checkpoint files changed
  --overwrite            write into --out even if it holds files prefdyn did not write (they are kept)
  --serve                also start the live dashboard of this run (prefdyn serve RUN_DIR on a free
                         loopback port) and print its URL; it stops when the training ends
${OPTION_DEFS.map((d) => `  --${cliName(d.key).padEnd(28)} ${optionHelp(d)}`).join('\n')}

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
    force: { type: 'boolean' },
    overwrite: { type: 'boolean' },
    serve: { type: 'boolean' },
  }),
  async run(args) {
    const v = args.values;
    // SIGINT (Ctrl-C) and SIGTERM (timeout, Slurm, docker stop) stop after the current step; a second one quits now.
    let signal: 'SIGINT' | 'SIGTERM' | undefined;
    const request: TrainingRequest = {
      notice,
      onSkip: reportSkip,
      progress: stderrProgress,
      stopRequested: () => signal !== undefined,
    };
    let dashboard: Awaited<ReturnType<typeof startDashboardProcess>> | undefined;
    if (v.serve === true)
      request.beforeTraining = async (runDir) => {
        dashboard = await startDashboardProcess(runDir);
        process.stderr.write(`prefdyn: live dashboard at ${dashboard.url}\n`);
      };
    if (typeof v.resume === 'string') {
      const others = [
        ...new Set([
          'config',
          'overwrite',
          'serve',
          ...Object.keys(addSourceOptions({})),
          ...OPTION_DEFS.map((d) => cliName(d.key)),
        ]),
      ].filter((k) => v[k] !== undefined);
      if (others.length > 0)
        throw new UsageError(
          `--resume takes no other options (got ${others.map((k) => `--${k}`).join(', ')}): the run continues with its saved config.json`,
        );
      request.resume = v.resume;
      request.force = v.force === true;
    } else {
      if (v.force !== undefined) throw new UsageError('--force applies to --resume only');
      const cli: Record<string, unknown> = {};
      for (const d of OPTION_DEFS) {
        const raw = v[cliName(d.key)];
        if (raw !== undefined) cli[d.key] = raw;
      }
      const file = typeof v.config === 'string' ? { path: v.config, values: readConfigFile(v.config) } : undefined;
      const resolved = resolveConfig(file, cli);
      const c = resolved.config;
      checkOutputFolder('--out', c.out, {
        writes: isRunFolderEntry,
        overwrite: v.overwrite === true,
        inputs: [
          { option: '--model', path: c.model },
          { option: '--ref-model', path: c.ref_model },
          { option: '--data', path: c.data },
        ],
      });
      request.start = { resolved, source: sourceOptionsFromArgs(v) };
    }

    const exitCode = { SIGINT: 130, SIGTERM: 143 } as const;
    const onSignal = (s: 'SIGINT' | 'SIGTERM') => {
      if (signal) process.exit(exitCode[s]);
      signal = s;
      const again = s === 'SIGINT' ? 'Ctrl-C again' : 'a second SIGTERM';
      process.stderr.write(
        `\nprefdyn: ${s === 'SIGINT' ? '' : 'SIGTERM: '}stopping after this step (${again} to quit now)\n`,
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const { runDir, result, alreadyComplete } = await runTraining(request);
      if (alreadyComplete) {
        process.stdout.write(`already complete: ${result.steps}/${result.totalSteps} steps; run folder ${runDir}\n`);
        return 0;
      }
      const all = result.lastTest?.at(-1) ?? result.lastTrain?.at(-1);
      process.stdout.write(
        `${result.status} ${result.steps}/${result.totalSteps} steps; ${all ? `${result.lastTest ? 'test' : 'train'} loss ${all.values.loss.toFixed(4)}, policy accuracy ${all.values['policy/accuracies'].toFixed(3)}; ` : ''}run folder ${runDir}\n`,
      );
      return result.status === 'interrupted' ? exitCode[signal ?? 'SIGINT'] : 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      dashboard?.stop();
    }
  },
};
