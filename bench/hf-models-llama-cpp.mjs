// llama.cpp's side of bench/hf-models.mjs, through node-llama-cpp's prebuilt CPU binary (a devDependency
// used by the benchmark only; never built or downloaded here): prompt processing of the same token ids
// (no-grad forward of each prompt, logits of its last token only), one prompt at a time in a fresh
// sequence, as llama.cpp processes prompts. Threads = THREADS, batch = the longest prompt.
// Usage: node bench/hf-models-llama-cpp.mjs MODEL.gguf TOKENS_JSON THREADS   (prints one JSON line)
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { getLlama } from 'node-llama-cpp';

const [file, tokensFile, threadsArg] = process.argv.slice(2);
const threads = Number(threadsArg);
const prompts = JSON.parse(fs.readFileSync(tokensFile, 'utf8')).pairs.map((p) => p.prompt);
const longest = Math.max(...prompts.map((p) => p.length));

const t0 = performance.now();
const llama = await getLlama({ gpu: false, build: 'never', maxThreads: threads, logLevel: 'error' });
const model = await llama.loadModel({ modelPath: file, gpuLayers: 0 });
const context = await model.createContext({
  contextSize: Math.max(256, longest + 1),
  batchSize: longest,
  threads,
  sequences: 1,
});
const sequence = context.getSequence();
const loadMs = performance.now() - t0;

async function processPrompt(ids) {
  await sequence.clearHistory();
  await sequence.evaluateWithoutGeneratingNewTokens(ids);
}

await processPrompt(prompts[0]); // warm-up
const t = performance.now();
const cpu = process.cpuUsage(); // llama.cpp's threads belong to this process
for (const ids of prompts) await processPrompt(ids);
const ms = performance.now() - t;
const used = process.cpuUsage(cpu);
console.log(
  JSON.stringify({
    llama_cpp: llama.llamaCppRelease,
    build: llama.buildType,
    threads: context.currentThreads,
    load_ms: loadMs,
    prompt_ms: ms,
    prompt_cpu_ms: (used.user + used.system) / 1000,
    prompt_tokens: prompts.reduce((n, p) => n + p.length, 0),
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  }),
);
await context.dispose();
await model.dispose();
await llama.dispose();
