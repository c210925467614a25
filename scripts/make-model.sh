#!/usr/bin/env bash
# Rebuilds a bundled model from a clean checkout:
#   npm install && bash scripts/make-model.sh tiny|small [WORK]
# 1. GPT-2's BPE truncated to 8,192 tokens (" Yes" = 3363 and " No" = 1400 stay single tokens),
# 2. a random Llama (RMSNorm, RoPE, SwiGLU, grouped-query attention, tied embeddings), seed 0,
# 3. causal-LM pretraining: prefdyn-tiny on the bundled Persona statements and HH-RLHF dialogues
#    (prompt + chosen); prefdyn-small on those and the corpus of scripts/make-corpus.mjs (State of
#    the Union addresses, WordNet glosses),
# 4. the weights, config and tokenizer copied into models/prefdyn-NAME (its README.md, the model card,
#    is kept; update its numbers from the log this script prints).
# prefdyn-tiny takes about 15 minutes on 2 CPU cores; prefdyn-small about an hour on one core.
# The work folder (default: a fresh temporary one) keeps the log.
set -euo pipefail
cd "$(dirname "$0")/.."
NAME="${1:-}"
case "$NAME" in
  tiny)
    SIZE=d=128,layers=4,heads=4,kv=2,ffn=352,ctx=256
    TRAIN=(--steps 400 --batch-size 16 --seq-len 128 --lr 3e-3 --warmup-steps 40 --dtype F32 --log-every 20)
    ;;
  small)
    SIZE=d=256,layers=6,heads=8,kv=4,ffn=704,ctx=256
    TRAIN=(--steps 2000 --batch-size 16 --seq-len 128 --lr 2e-3 --warmup-steps 100 --dtype BF16 --log-every 50)
    ;;
  *)
    echo "usage: bash scripts/make-model.sh tiny|small [WORK]" >&2
    exit 2
    ;;
esac
WORK="${2:-$(mktemp -d)}"
mkdir -p "$WORK"
npx tsc -p .
node scripts/make-tokenizer.mjs --merges 7935 --out "$WORK/tokenizer"
node dist/src/cli/main.js model init --arch llama --size "$SIZE" --tokenizer "$WORK/tokenizer" --seed 0 --out "$WORK/init"
TEXT=(--text persona --text hh-rlhf)
if [ "$NAME" = small ]; then
  node scripts/make-corpus.mjs --out "$WORK/corpus.jsonl"
  TEXT+=(--text "$WORK/corpus.jsonl")
fi
node dist/src/cli/main.js pretrain --model "$WORK/init" "${TEXT[@]}" --out "$WORK/pretrained" \
  "${TRAIN[@]}" --lr-scheduler cosine --weight-decay 0.1 --max-grad-norm 1.0 --held-out 0.01 --seed 0 \
  2>&1 | tee "$WORK/pretrain.log"
mkdir -p "models/prefdyn-$NAME"
for f in config.json model.safetensors tokenizer.json tokenizer_config.json; do
  cp "$WORK/pretrained/$f" "models/prefdyn-$NAME/$f.tmp"
  mv "models/prefdyn-$NAME/$f.tmp" "models/prefdyn-$NAME/$f"
done
node dist/src/cli/main.js model info "models/prefdyn-$NAME"
echo "log: $WORK/pretrain.log"
