#!/usr/bin/env bash
# Rebuilds the bundled default model, models/prefdyn-tiny, from a clean checkout:
#   npm install && bash scripts/make-default-model.sh
# 1. GPT-2's BPE truncated to 8,192 tokens (" Yes" = 3363 and " No" = 1400 stay single tokens),
# 2. a random Llama (RMSNorm, RoPE, SwiGLU, grouped-query attention, tied embeddings), seed 0,
# 3. causal-LM pretraining on the bundled Persona statements and HH-RLHF dialogues (prompt + chosen),
# 4. the weights, config and tokenizer copied into models/prefdyn-tiny (its README.md, the model card,
#    is kept; update its numbers from the log this script prints).
# Takes about 15 minutes on 2 CPU cores. The work folder (default: a fresh temporary one) keeps the log.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="${1:-$(mktemp -d)}"
mkdir -p "$WORK"
npx tsc -p .
node scripts/make-tokenizer.mjs --merges 7935 --out "$WORK/tokenizer"
node dist/src/cli/main.js model init --arch llama --size d=128,layers=4,heads=4,kv=2,ffn=352,ctx=256 \
  --tokenizer "$WORK/tokenizer" --seed 0 --out "$WORK/init"
node dist/src/cli/main.js pretrain --model "$WORK/init" --text persona --text hh-rlhf --out "$WORK/pretrained" \
  --steps 400 --batch-size 16 --seq-len 128 --lr 3e-3 --warmup-steps 40 --lr-scheduler cosine \
  --weight-decay 0.1 --max-grad-norm 1.0 --held-out 0.01 --seed 0 --log-every 20 2>&1 | tee "$WORK/pretrain.log"
mkdir -p models/prefdyn-tiny
for f in config.json model.safetensors tokenizer.json tokenizer_config.json; do
  cp "$WORK/pretrained/$f" "models/prefdyn-tiny/$f.tmp"
  mv "models/prefdyn-tiny/$f.tmp" "models/prefdyn-tiny/$f"
done
node dist/src/cli/main.js model info models/prefdyn-tiny
echo "log: $WORK/pretrain.log"
