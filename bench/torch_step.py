"""PyTorch side of the model benchmark (bench/step.mjs): the same GPT-2-style model (the parity reference
implementation in scripts/parity/reference_models.py: HF GPT2LMHeadModel semantics, eager attention,
gelu_new), the same batch shape, the same work per timing:
  forward: no-grad forward to the logits and the per-token log-probs (log_softmax + gather);
  step:    forward + next-token NLL + backward + AdamW (torch.optim.AdamW) over every parameter;
plus sgemm 1024^3 (torch.mm) and this process's peak RSS. Medians over repetitions after warm-up.
Usage: /usr/bin/python3 bench/torch_step.py THREADS [REPS]   (prints one JSON line)"""
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "parity"))
from reference_models import GPT2LMHeadModel  # noqa: E402

LAYERS, D, HEADS, FFN, VOCAB, T, B = 4, 256, 4, 1024, 8192, 64, 8
SEED = 1


def timed(fn, warmup, reps):
    """(median wall ms, mean process CPU ms) per call: on a shared machine the CPU time of a 1-thread run
    is what the call costs, whatever the load."""
    for _ in range(warmup):
        fn()
    times = []
    cpu0 = time.process_time()
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return sorted(times)[len(times) // 2], (time.process_time() - cpu0) * 1e3 / reps


def main():
    threads = int(sys.argv[1])
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    torch.set_num_threads(threads)
    torch.manual_seed(SEED)

    n = 1024
    a, b = torch.randn(n, n), torch.randn(n, n)
    sgemm_ms = timed(lambda: torch.mm(a, b), 2, 10)[0]
    del a, b

    cfg = {"vocab_size": VOCAB, "n_embd": D, "n_layer": LAYERS, "n_head": HEADS, "n_positions": T,
           "layer_norm_epsilon": 1e-5}
    model = GPT2LMHeadModel(cfg)
    with torch.no_grad():  # Hugging Face's initialisation, as prefdyn's model init
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.zero_()
            elif ".ln_" in name or name.startswith("transformer.ln_f"):
                p.fill_(1.0)
            else:
                p.normal_(0.0, 0.02)
    n_params = sum(p.numel() for p in model.parameters())
    ids = torch.randint(0, VOCAB, (B, T))
    targets = torch.cat([ids[:, 1:], torch.full((B, 1), -1)], dim=1).reshape(-1)
    gather_at = targets.clamp(min=0).unsqueeze(1)

    def forward_logprobs():
        with torch.no_grad():
            _, logits = model(ids)
            return F.log_softmax(logits.view(-1, VOCAB), dim=-1).gather(1, gather_at)

    fwd_ms, fwd_cpu_ms = timed(forward_logprobs, 2, reps)

    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)

    def step():
        opt.zero_grad(set_to_none=True)
        _, logits = model(ids)
        loss = F.cross_entropy(logits.view(-1, VOCAB), targets, ignore_index=-1)
        loss.backward()
        opt.step()

    step_ms, step_cpu_ms = timed(step, 2, reps)
    print(json.dumps({
        "torch": torch.__version__, "threads": torch.get_num_threads(), "params": n_params,
        "sgemm_gflops": 2 * n ** 3 / 1e9 / (sgemm_ms / 1e3), "fwd_ms": fwd_ms, "step_ms": step_ms,
        "fwd_cpu_ms": fwd_cpu_ms, "step_cpu_ms": step_cpu_ms,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
