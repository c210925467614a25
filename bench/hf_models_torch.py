"""PyTorch side of bench/hf-models.mjs: the same BF16 model folder and token ids, in bf16, plain torch
(LlamaForCausalLM semantics as scripts/parity/reference_models.py, written over the weight dict so that
no float32 copy of the model is ever made; eager attention, softmax and RMSNorm in float32 as HF does).
  forward: embed every prompt (final hidden state at its last token) and score every pair (summed
           response log-probs; single-token answers from one forward of the prompt), batches of B;
  dpo:     LoRA r 8, alpha 32, dropout 0.05 on q_proj/v_proj (adapter in float32, as PEFT's default
           autocast_adapter_dtype), reference log-probs once, then DPO steps (beta 0.1, clip 1.0,
           torch.optim.AdamW lr 1e-5) on the first B pairs, with torch.utils.checkpoint per layer when asked.
Usage: /usr/bin/python3 bench/hf_models_torch.py forward|dpo MODEL_DIR TOKENS_JSON BATCH THREADS [STEPS] [--gradient-checkpointing]
Prints one JSON line; peak RSS is this process's."""
import json
import math
import os
import resource
import struct
import sys
import time

import torch
import torch.nn.functional as F
import torch.utils.checkpoint

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "parity"))
from reference_models import default_inv_freq, rope_cos_sin, rotate_half  # noqa: E402

BETA = 0.1


def load_bf16(model_dir):
    """Every tensor of the (sharded) safetensors checkpoint as a bf16 tensor, read straight into its buffer."""
    index = os.path.join(model_dir, "model.safetensors.index.json")
    files = sorted(set(json.load(open(index))["weight_map"].values())) if os.path.exists(index) else ["model.safetensors"]
    weights = {}
    for name in files:
        with open(os.path.join(model_dir, name), "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(n))
            start = 8 + n
            for key, info in header.items():
                if key == "__metadata__":
                    continue
                assert info["dtype"] == "BF16", f"{key}: {info['dtype']}"
                a, b = info["data_offsets"]
                buf = bytearray(b - a)
                f.seek(start + a)
                f.readinto(buf)
                weights[key] = torch.frombuffer(buf, dtype=torch.bfloat16).view(info["shape"])
    return weights


def rmsnorm(x, w, eps):
    h = x.float()
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
    return w * h.to(x.dtype)


class Llama:
    def __init__(self, cfg, w, lora=None):
        self.c, self.w, self.lora = cfg, w, lora or {}
        self.H, self.Hkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
        self.hd = cfg.get("head_dim") or cfg["hidden_size"] // self.H
        self.training = False

    def proj(self, name, x):
        y = F.linear(x, self.w[name + ".weight"])
        ad = self.lora.get(name)
        if ad is not None:
            a, b, scale, p = ad
            h = F.dropout(x.float(), p, self.training)
            y = y + (F.linear(F.linear(h, a), b) * scale).to(y.dtype)
        return y

    def layer(self, l, x, cos, sin):
        c, p = self.c, f"model.layers.{l}"
        B, T, _ = x.shape
        h = rmsnorm(x, self.w[p + ".input_layernorm.weight"], c["rms_norm_eps"])
        q = self.proj(p + ".self_attn.q_proj", h).view(B, T, self.H, self.hd).transpose(1, 2)
        k = self.proj(p + ".self_attn.k_proj", h).view(B, T, self.Hkv, self.hd).transpose(1, 2)
        v = self.proj(p + ".self_attn.v_proj", h).view(B, T, self.Hkv, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = self.H // self.Hkv
        k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        att = q @ k.transpose(2, 3) / math.sqrt(self.hd)  # [B,H,T,T]
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        att = F.softmax(att.masked_fill(~causal, float("-inf")), dim=-1, dtype=torch.float32).to(q.dtype)
        y = (att @ v).transpose(1, 2).reshape(B, T, self.H * self.hd)
        x = x + self.proj(p + ".self_attn.o_proj", y)
        h = rmsnorm(x, self.w[p + ".post_attention_layernorm.weight"], c["rms_norm_eps"])
        m = F.silu(self.proj(p + ".mlp.gate_proj", h)) * self.proj(p + ".mlp.up_proj", h)
        return x + self.proj(p + ".mlp.down_proj", m)

    def hidden(self, ids, checkpointing=False):  # ids [B,T] -> [B,T,d] after the final norm
        x = self.w["model.embed_tokens.weight"][ids]
        cos, sin = rope_cos_sin(ids.shape[1], default_inv_freq(self.c["rope_theta"], self.hd), x.dtype)
        for l in range(self.c["num_hidden_layers"]):
            if checkpointing:
                x = torch.utils.checkpoint.checkpoint(self.layer, l, x, cos, sin, use_reentrant=False)
            else:
                x = self.layer(l, x, cos, sin)
        return rmsnorm(x, self.w["model.norm.weight"], self.c["rms_norm_eps"])

    def unembed(self):
        return self.w["model.embed_tokens.weight" if self.c["tie_word_embeddings"] else "lm_head.weight"]


def padded(seqs):
    T = max(len(s) for s in seqs)
    return torch.tensor([list(s) + [0] * (T - len(s)) for s in seqs], dtype=torch.long)


def last_hidden(model, seqs, checkpointing=False):
    h = model.hidden(padded(seqs), checkpointing)
    return h[torch.arange(len(seqs)), torch.tensor([len(s) - 1 for s in seqs])]  # [B,d]


def pair_logps(model, pairs, checkpointing=False):
    """Summed response log-probs (chosen, rejected) of a batch: one forward of the prompts when every
    answer is one token (logits at the last prompt position only), else prompt + response sequences."""
    W = model.unembed()
    if all(len(p["chosen"]) == 1 and len(p["rejected"]) == 1 for p in pairs):
        h = last_hidden(model, [p["prompt"] for p in pairs], checkpointing)
        lp = F.log_softmax(F.linear(h, W).float(), dim=-1)
        rows = torch.arange(len(pairs))
        return lp[rows, [p["chosen"][0] for p in pairs]], lp[rows, [p["rejected"][0] for p in pairs]]
    seqs = [p["prompt"] + p[side] for side in ("chosen", "rejected") for p in pairs]
    h = model.hidden(padded(seqs), checkpointing)
    out = []
    for i, s in enumerate(seqs):
        n = len(pairs[i % len(pairs)]["prompt"])
        lp = F.log_softmax(F.linear(h[i, n - 1 : len(s) - 1], W).float(), dim=-1)
        out.append(lp.gather(1, torch.tensor(s[n:]).unsqueeze(1)).sum())
    out = torch.stack(out)
    return out[: len(pairs)], out[len(pairs) :]


def scored_tokens(p):
    single = len(p["chosen"]) == 1 and len(p["rejected"]) == 1
    return len(p["prompt"]) if single else 2 * len(p["prompt"]) + len(p["chosen"]) + len(p["rejected"])


def timed(fn):
    """(wall ms, process CPU ms over all threads, fn's value)."""
    t, cpu = time.perf_counter(), time.process_time()
    v = fn()
    return (time.perf_counter() - t) * 1e3, (time.process_time() - cpu) * 1e3, v


def main():
    mode, model_dir, tokens_file, batch, threads = sys.argv[1:6]
    batch, threads = int(batch), int(threads)
    checkpointing = "--gradient-checkpointing" in sys.argv
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    pairs = json.load(open(tokens_file))["pairs"]
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    load_ms, _, w = timed(lambda: load_bf16(model_dir))
    model = Llama(cfg, w)
    peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # noqa: E731
    batches = [pairs[i : i + batch] for i in range(0, len(pairs), batch)]
    if mode == "forward":
        with torch.no_grad():
            last_hidden(model, [p["prompt"] for p in batches[0]])  # warm-up batch of each, as prefdyn's side
            pair_logps(model, batches[0])
            embed_ms, embed_cpu_ms, rows = timed(lambda: [last_hidden(model, [p["prompt"] for p in b]) for b in batches])
            lp_ms, lp_cpu_ms, lps = timed(lambda: [pair_logps(model, b) for b in batches])
        print(json.dumps({
            "torch": torch.__version__, "threads": torch.get_num_threads(), "load_ms": load_ms,
            "embed_ms": embed_ms, "embed_cpu_ms": embed_cpu_ms, "embed_tokens": sum(len(p["prompt"]) for p in pairs),
            "logprobs_ms": lp_ms, "logprobs_cpu_ms": lp_cpu_ms, "logprobs_tokens": sum(scored_tokens(p) for p in pairs),
            "logp_chosen": [float(x) for c, _ in lps for x in c],
            "embedding_row0": [float(x) for x in rows[0][0, :8]],
            "peak_rss_mb": peak(),
        }))
        return
    steps = int(sys.argv[6])
    used = pairs[:batch]
    with torch.no_grad():
        ref_c, ref_r = pair_logps(model, used)
    for p in w.values():
        p.requires_grad_(False)
    d, r, alpha = cfg["hidden_size"], 8, 32
    lora, params = {}, []
    for l in range(cfg["num_hidden_layers"]):
        for name in ("q_proj", "v_proj"):
            key = f"model.layers.{l}.self_attn.{name}"
            out = w[key + ".weight"].shape[0]
            a = torch.empty(r, d).uniform_(-1 / math.sqrt(d), 1 / math.sqrt(d)).requires_grad_()
            b = torch.zeros(out, r, requires_grad=True)
            lora[key] = (a, b, alpha / r, 0.05)
            params += [a, b]
    model = Llama(cfg, w, lora)
    model.training = True
    opt = torch.optim.AdamW(params, lr=1e-5, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    losses = []

    def step():
        opt.zero_grad(set_to_none=True)
        pc, pr = pair_logps(model, used, checkpointing)
        h = BETA * ((pc - ref_c) - (pr - ref_r))
        loss = -F.logsigmoid(h).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        losses.append(float(loss))

    runs = [timed(step) for _ in range(steps + 1)]  # the first is a warm-up
    times = [r[0] for r in runs]
    median = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    print(json.dumps({
        "torch": torch.__version__, "threads": torch.get_num_threads(), "load_ms": load_ms,
        "gradient_checkpointing": checkpointing, "pairs": len(used),
        "step_ms": median(times[1:]), "step_cpu_ms": median([r[1] for r in runs[1:]]), "step_ms_all": times,
        "step_tokens": sum(scored_tokens(p) for p in used), "losses": losses, "peak_rss_mb": peak(),
    }))


if __name__ == "__main__":
    main()
