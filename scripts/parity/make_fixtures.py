#!/usr/bin/env python3
"""Writes prefdyn's PyTorch parity fixtures into test/fixtures/parity/ (committed; tests read them).

Run by hand, never in CI (it needs Debian's python3-torch, `apt-get install python3-torch`), from the
repository root, after building prefdyn (the pair tokens come from prefdyn's own tokenizer):

    npx tsc -p . && node scripts/parity/tokenize-pairs.mjs && /usr/bin/python3 scripts/parity/make_fixtures.py

With model names as arguments (e.g. `make_fixtures.py gemma2`) it writes only those model folders of
FAMILY_MODELS, leaving every other fixture as it is.

What it writes (all float32 safetensors; references computed in float64 from the float32 weights):
  inputs.json                  token ids [B,T] (right-padded) and loss targets [B,T] (-1 = masked)
  <model>/                     a Hugging Face model folder (config.json, model.safetensors, tokenizer)
  <model>/reference.safetensors  logits [B,T,V], hidden [B,T,d] (after the final norm), loss [1] and
                               grad.<name> for every parameter; loss = mean NLL over unmasked targets
  lora-<model>/                a PEFT adapter folder on <model> plus its reference.safetensors
                               (grad.<PEFT name> for the LoRA matrices only: the base is frozen)
  logprobs/                    pairs.jsonl, tokens.json (from tokenize-pairs.mjs) and
                               reference-<model>.jsonl: summed response log-probs, one pair at a time
  arch/inputs.json, arch/<model>/  the Llama family's options (rope scaling in both config spellings,
                               head_dim, biases, Mistral's sliding window, Qwen2, Qwen3) on tiny configs with
                               their own batch (vocab 64, T = 12: past the sliding window and past the dynamic
                               scaling's max_position_embeddings); no tokenizer, same reference files
"""
import json
import os
import shutil
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_models import (  # noqa: E402
    Gemma2ForCausalLM,
    GemmaForCausalLM,
    GPT2LMHeadModel,
    GPTNeoXForCausalLM,
    LlamaForCausalLM,
    apply_lora,
)
from safetensors_io import write_safetensors  # noqa: E402

OUT = os.path.join("test", "fixtures", "parity")
TOKENIZER_DIR = os.path.join("test", "fixtures", "tokenizers", "gpt2-small")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")
VOCAB = 1025  # the small GPT-2 test tokenizer: 256 bytes + 768 merges + <|endoftext|>
EOT = 1024

LLAMA_BASE = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": VOCAB, "hidden_size": 32,
    "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
    "hidden_act": "silu", "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
    "tie_word_embeddings": True, "attention_bias": False, "mlp_bias": False, "bos_token_id": EOT,
    "eos_token_id": EOT, "torch_dtype": "float32",
}
MODELS = {
    # GQA (4 query heads share 2 kv heads) and tied embeddings: the main Llama case.
    "llama-gqa-tied": ("llama", LLAMA_BASE),
    # Untied lm_head, plain multi-head attention and another rope_theta.
    "llama-untied": ("llama", {**LLAMA_BASE, "num_key_value_heads": 4, "tie_word_embeddings": False,
                               "rope_theta": 500000.0, "rms_norm_eps": 1e-6}),
    "gpt2": ("gpt2", {
        "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": VOCAB, "n_embd": 32,
        "n_layer": 2, "n_head": 4, "n_positions": 64, "n_ctx": 64, "layer_norm_epsilon": 1e-5,
        "activation_function": "gelu_new", "resid_pdrop": 0.1, "embd_pdrop": 0.1, "attn_pdrop": 0.1,
        "bos_token_id": EOT, "eos_token_id": EOT, "tie_word_embeddings": True, "torch_dtype": "float32",
    }),
}
# Tiny Llama-family configs, one per option; vocabulary 64 and their own inputs (ARCH_T positions).
ARCH_VOCAB, ARCH_T = 64, 12
ARCH_BASE = {**LLAMA_BASE, "vocab_size": ARCH_VOCAB, "hidden_size": 16, "intermediate_size": 32,
             "bos_token_id": 0, "eos_token_id": 0}
LLAMA3_ROPE = {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0}
ARCH_MODELS = {
    # head_dim 8 != hidden/heads; inv_freq [1, .1, .01, .001]: wavelengths 6.3 (kept), 63 (blended), 628 and
    # 6283 (divided by factor) against original 64 / high 4 = 16 and 64 / low 1 = 64. Biases everywhere.
    "llama3-scaling": {**ARCH_BASE, "head_dim": 8, "tie_word_embeddings": False, "attention_bias": True,
                       "mlp_bias": True, "rope_scaling": {"rope_type": "llama3", **LLAMA3_ROPE,
                                                          "original_max_position_embeddings": 64}},
    # The legacy "type" key.
    "llama-linear": {**ARCH_BASE, "rope_scaling": {"type": "linear", "factor": 4.0}},
    # T = 12 > max_position_embeddings 8: theta grows to 10000 * (2 * 12 / 8 - 1)^(4 / 2).
    "llama-dynamic": {**ARCH_BASE, "max_position_embeddings": 8, "rope_scaling": {"rope_type": "dynamic", "factor": 2.0}},
    # transformers 5: rope_parameters holds rope_theta and rope_type; no top-level rope_theta.
    "llama-v5": {**{k: v for k, v in ARCH_BASE.items() if k != "rope_theta"}, "head_dim": 8, "rope_parameters": {
        "rope_type": "llama3", "rope_theta": 500000.0, **LLAMA3_ROPE, "original_max_position_embeddings": 512}},
    "mistral-window": {**{k: v for k, v in ARCH_BASE.items() if k not in ("attention_bias", "mlp_bias")},
                       "architectures": ["MistralForCausalLM"], "model_type": "mistral", "sliding_window": 4},
    "qwen2": {**{k: v for k, v in ARCH_BASE.items() if k not in ("attention_bias", "mlp_bias")},
              "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "rope_theta": 1000000.0,
              "tie_word_embeddings": False, "use_sliding_window": False, "sliding_window": 4, "max_window_layers": 1},
    "qwen3": {**{k: v for k, v in ARCH_BASE.items() if k != "mlp_bias"}, "architectures": ["Qwen3ForCausalLM"],
              "model_type": "qwen3", "head_dim": 8, "rope_theta": 1000000.0, "use_sliding_window": False},
}
# The architectures of the bring-your-own-model issue, each model on its own seed (FAMILY_SEEDS), so that
# adding one never changes another's weights.
NEOX_BASE = {
    "architectures": ["GPTNeoXForCausalLM"], "model_type": "gpt_neox", "vocab_size": VOCAB, "hidden_size": 32,
    "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 2, "hidden_act": "gelu",
    "max_position_embeddings": 64, "layer_norm_eps": 1e-5, "use_parallel_residual": True, "rotary_pct": 0.25,
    "rotary_emb_base": 10000, "attention_bias": True, "tie_word_embeddings": False, "bos_token_id": EOT,
    "eos_token_id": EOT, "torch_dtype": "float32",
}
GEMMA_BASE = {
    "architectures": ["GemmaForCausalLM"], "model_type": "gemma", "vocab_size": VOCAB, "hidden_size": 32,
    "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
    "head_dim": 16, "hidden_act": "gelu", "hidden_activation": "gelu_pytorch_tanh", "max_position_embeddings": 64,
    "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "attention_bias": False, "tie_word_embeddings": True,
    "bos_token_id": EOT, "eos_token_id": EOT, "torch_dtype": "float32",
}
FAMILY_MODELS = {
    # Pythia's layout: parallel residual, a quarter of each head rotated (4 of 16 channels), exact GELU,
    # untied embed_out; transformers 4 spelling.
    "gpt-neox-parallel": ("gpt_neox", NEOX_BASE),
    # Sequential residual, half the channels rotated, another base: transformers 5 spelling (rope_parameters).
    "gpt-neox-sequential": ("gpt_neox", {
        **{k: v for k, v in NEOX_BASE.items() if k not in ("rotary_pct", "rotary_emb_base")},
        "use_parallel_residual": False,
        "rope_parameters": {"rope_type": "default", "rope_theta": 500.0, "partial_rotary_factor": 0.5},
    }),
    # head_dim (16) != hidden / heads (8), grouped-query heads, legacy hidden_act next to hidden_activation.
    "gemma": ("gemma", GEMMA_BASE),
    # 3 layers: 0 and 2 slide over a window of 3 < T = 10, 1 attends to everything; both soft-caps bind.
    "gemma2": ("gemma2", {
        **GEMMA_BASE, "architectures": ["Gemma2ForCausalLM"], "model_type": "gemma2", "num_hidden_layers": 3,
        "head_dim": 8, "query_pre_attn_scalar": 12, "attn_logit_softcapping": 1.0,
        "final_logit_softcapping": 5.0, "sliding_window": 3,
    }),
}
FAMILY_SEEDS = {"gpt-neox-parallel": 300, "gpt-neox-sequential": 301, "gemma": 302, "gemma2": 303}
ARCHS = {
    "llama": LlamaForCausalLM, "gpt2": GPT2LMHeadModel, "gpt_neox": GPTNeoXForCausalLM,
    "gemma": GemmaForCausalLM, "gemma2": Gemma2ForCausalLM,
}
LORA = {
    "lora-llama": ("llama-gqa-tied", ["q_proj", "v_proj"], False),
    "lora-gpt2": ("gpt2", ["c_attn"], True),
}
LORA_R, LORA_ALPHA = 4, 8


def build(arch, cfg, seed):
    """A model with random float32 weights, far enough from HF's init (norms != 1, biases != 0) that every
    gradient path is exercised; returned in float64 for the reference computation."""
    torch.manual_seed(seed)
    model = ARCHS[arch](cfg)
    with torch.no_grad():
        for name, p in model.named_parameters():
            is_norm = "norm." in name or ".ln_" in name
            if is_norm and name.endswith("weight"):
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.normal_(0, 0.05)
            else:
                p.normal_(0, 0.15)
    return model.double()


def float32_state(named):
    return {name: t.detach().float() for name, t in named}


def make_inputs():
    """Three right-padded sequences of lengths 10, 7, 4; targets are the next tokens after a per-sequence
    prompt (masked, -1) up to the last real token, as a response log-prob loss sees them."""
    g = torch.Generator().manual_seed(7)
    B, T = 3, 10
    lengths, prompt_lengths = [10, 7, 4], [3, 2, 1]
    ids = torch.randint(0, VOCAB, (B, T), generator=g)
    targets = torch.full((B, T), -1, dtype=torch.int64)
    for b in range(B):
        ids[b, lengths[b]:] = EOT
        for t in range(prompt_lengths[b] - 1, lengths[b] - 1):
            targets[b, t] = ids[b, t + 1]
    return ids, targets


def make_arch_inputs():
    """Two right-padded sequences of lengths 12 and 9 over the 64-token vocabulary, targets as make_inputs."""
    g = torch.Generator().manual_seed(11)
    B, T = 2, ARCH_T
    lengths, prompt_lengths = [12, 9], [3, 2]
    ids = torch.randint(1, ARCH_VOCAB, (B, T), generator=g)
    targets = torch.full((B, T), -1, dtype=torch.int64)
    for b in range(B):
        ids[b, lengths[b]:] = 0
        for t in range(prompt_lengths[b] - 1, lengths[b] - 1):
            targets[b, t] = ids[b, t + 1]
    return ids, targets


def masked_nll(logits, targets):
    mask = targets >= 0
    logp = F.log_softmax(logits, dim=-1).gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return -(logp * mask).sum() / mask.sum()


def reference(model, ids, targets, grad_names):
    """Forward + backward in float64; returns the dump dict (float32)."""
    model.zero_grad(set_to_none=True)
    hidden, logits = model(ids)
    loss = masked_nll(logits, targets)
    loss.backward()
    out = {"logits": logits.detach().float(), "hidden": hidden.detach().float(),
           "loss": loss.detach().float().reshape(1)}
    for name, p in grad_names:
        out[f"grad.{name}"] = p.grad.detach().float()
    return out


def copy_tokenizer(folder):
    for name in TOKENIZER_FILES:
        src = os.path.join(TOKENIZER_DIR, name)
        if os.path.exists(src):
            shutil.copyfile(src, os.path.join(folder, name))


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def save_model(folder, cfg, model, tokenizer=True):
    os.makedirs(folder, exist_ok=True)
    write_json(os.path.join(folder, "config.json"), cfg)
    # named_parameters lists a tied weight once, under its embedding name: HF saves it that way too.
    write_safetensors(os.path.join(folder, "model.safetensors"), float32_state(model.named_parameters()),
                      {"format": "pt"})
    if tokenizer:
        copy_tokenizer(folder)


def write_arch_fixtures():
    folder = os.path.join(OUT, "arch")
    os.makedirs(folder, exist_ok=True)
    ids, targets = make_arch_inputs()
    write_json(os.path.join(folder, "inputs.json"), {"ids": ids.tolist(), "targets": targets.tolist()})
    for seed, (name, cfg) in enumerate(ARCH_MODELS.items()):
        model = build("llama", cfg, seed=300 + seed)
        save_model(os.path.join(folder, name), cfg, model, tokenizer=False)
        ref = reference(model, ids, targets, list(model.named_parameters()))
        write_safetensors(os.path.join(folder, name, "reference.safetensors"), ref)
        print(f"arch/{name}: loss {ref['loss'].item():.6f}")


def response_logprob(model, prompt, response):
    """Summed log pi(response | prompt), one unpadded sequence."""
    ids = torch.tensor([prompt + response])
    with torch.no_grad():
        _, logits = model(ids)
    logp = F.log_softmax(logits[0], dim=-1)
    return sum(logp[len(prompt) - 1 + j, tok].item() for j, tok in enumerate(response))


def write_logprob_references(models):
    folder = os.path.join(OUT, "logprobs")
    tokens_path = os.path.join(folder, "tokens.json")
    if not os.path.exists(tokens_path):
        print(f"skipping log-prob references: {tokens_path} missing (run scripts/parity/tokenize-pairs.mjs)")
        return
    with open(tokens_path) as f:
        pairs = json.load(f)["pairs"]
    for name, model in models.items():
        with open(os.path.join(folder, f"reference-{name}.jsonl"), "w") as f:
            for p in pairs:
                row = {"id": p["id"], "group": p["group"],
                       "logp_chosen": response_logprob(model, p["prompt_ids"], p["chosen_ids"]),
                       "logp_rejected": response_logprob(model, p["prompt_ids"], p["rejected_ids"]),
                       "n_tokens_chosen": len(p["chosen_ids"]), "n_tokens_rejected": len(p["rejected_ids"])}
                f.write(json.dumps(row) + "\n")


def write_family_fixtures(ids, targets, names):
    """The FAMILY_MODELS folders named (all when names is empty), each with its reference.safetensors."""
    for name in names or FAMILY_MODELS:
        arch, cfg = FAMILY_MODELS[name]
        model = build(arch, cfg, seed=FAMILY_SEEDS[name])
        folder = os.path.join(OUT, name)
        save_model(folder, cfg, model)
        ref = reference(model, ids, targets, list(model.named_parameters()))
        write_safetensors(os.path.join(folder, "reference.safetensors"), ref)
        print(f"{name}: loss {ref['loss'].item():.6f}, max |logit| {ref['logits'].abs().max().item():.3f}")


def main():
    names = sys.argv[1:]
    unknown = [n for n in names if n not in FAMILY_MODELS]
    if unknown:
        sys.exit(f"unknown fixture {unknown[0]} (choose from {', '.join(FAMILY_MODELS)})")
    if names:
        ids, targets = make_inputs()
        write_family_fixtures(ids, targets, names)
        return
    if not os.path.exists(os.path.join(TOKENIZER_DIR, "tokenizer.json")):
        sys.exit(f"{TOKENIZER_DIR}/tokenizer.json missing: run from the repository root after make-tokenizer")
    os.makedirs(OUT, exist_ok=True)
    ids, targets = make_inputs()
    write_json(os.path.join(OUT, "inputs.json"), {"ids": ids.tolist(), "targets": targets.tolist()})

    models = {}
    for seed, (name, (arch, cfg)) in enumerate(MODELS.items()):
        model = build(arch, cfg, seed=100 + seed)
        folder = os.path.join(OUT, name)
        save_model(folder, cfg, model)
        ref = reference(model, ids, targets, list(model.named_parameters()))
        write_safetensors(os.path.join(folder, "reference.safetensors"), ref)
        models[name] = model
        print(f"{name}: loss {ref['loss'].item():.6f}")

    for seed, (name, (base_name, targets_modules, fan_in_fan_out)) in enumerate(LORA.items()):
        arch, cfg = MODELS[base_name]
        model = build(arch, cfg, seed=100 + list(MODELS).index(base_name))  # the base, bit for bit
        for p in model.parameters():
            p.requires_grad_(False)
        wrapped = apply_lora(model, targets_modules, LORA_R, LORA_ALPHA, fan_in_fan_out)
        torch.manual_seed(200 + seed)
        adapter = {}
        with torch.no_grad():
            for path, w in wrapped.items():
                n_in = w.lora_A.weight.shape[1]
                # PEFT: lora_A kaiming-uniform (a = sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)); lora_B is zero at
                # init, random here so the adapter changes the output and both gradients are non-trivial.
                w.lora_A.weight.uniform_(-n_in ** -0.5, n_in ** -0.5)
                w.lora_B.weight.normal_(0, 0.1)
                for part in ("lora_A", "lora_B"):
                    adapter[f"base_model.model.{path}.{part}.weight"] = getattr(w, part).weight
        model.double()
        folder = os.path.join(OUT, name)
        os.makedirs(folder, exist_ok=True)
        write_json(os.path.join(folder, "adapter_config.json"), {
            "peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": base_name,
            "r": LORA_R, "lora_alpha": LORA_ALPHA, "lora_dropout": 0.05, "target_modules": targets_modules,
            "fan_in_fan_out": fan_in_fan_out, "bias": "none", "inference_mode": True, "modules_to_save": None,
        })
        write_safetensors(os.path.join(folder, "adapter_model.safetensors"), float32_state(adapter.items()),
                          {"format": "pt"})
        ref = reference(model, ids, targets, list(adapter.items()))
        write_safetensors(os.path.join(folder, "reference.safetensors"), ref)
        # Sanity check of the reference itself: merging gives the same logits (PEFT's merge_and_unload).
        with torch.no_grad():
            for w in wrapped.values():
                w.base_layer.weight += w.merged_delta()
                w.lora_B.weight.zero_()
            merged = model(ids)[1].float()
        assert torch.allclose(merged, ref["logits"], atol=1e-5), f"{name}: merged logits differ"
        print(f"{name}: loss {ref['loss'].item():.6f}")

    write_family_fixtures(ids, targets, [])
    write_logprob_references(models)
    write_arch_fixtures()


if __name__ == "__main__":
    main()
