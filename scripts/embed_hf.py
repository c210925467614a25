#!/usr/bin/env python3
"""Embeddings of a Hugging Face model in prefdyn's embeddings format (contract 3), computed on a GPU.

For models too large or too slow for `prefdyn embed` on a CPU (7B and up). Writes NAME.safetensors
(one tensor "embeddings" [N, d], F32 by default) and NAME.rows.jsonl ({"id", "group", "label"} per
row, same order), which `prefdyn analyze --embeddings NAME` reads as it reads `prefdyn embed`'s.

    # where prefdyn runs: the pairs, as prefdyn loads them
    npx prefdyn data export persona --out persona.jsonl
    # on the GPU machine (pip install torch transformers)
    python scripts/embed_hf.py --model meta-llama/Llama-2-7b-hf --data persona.jsonl --out emb/llama2-7b
    # back where prefdyn runs
    npx prefdyn analyze --embeddings emb/llama2-7b

The same positions as `prefdyn embed`: the final hidden state (after the final norm: what lm_head
multiplies) at the last prompt token, one row per pair, label +1 when the chosen answer is " Yes"
(-1 when it is " No"), when every pair is a Yes/No pair; otherwise two rows per pair, "<id>/chosen"
(+1) and "<id>/rejected" (-1), at the last token of prompt + response. The prompt is encoded with the
tokenizer's special tokens (Llama: BOS first), the response without, plus EOS when it is longer than
one token, as prefdyn does. Sequences longer than the model's context are refused, not truncated.
--position prompt|response overrides; --dtype bf16 halves the file (analyze reads F16/BF16 too);
--batch-size (default 16), --device (default cuda if available), --torch-dtype (default bfloat16).
Dependencies: torch and transformers only; the file writer below needs torch alone.
"""
import argparse
import json
import os
import struct
import sys

import torch


def yes_no_label(chosen, rejected):
    """+1 for a " Yes"/" No" pair, -1 for " No"/" Yes", None otherwise (prefdyn's yesNoLabel)."""
    c, r = chosen.strip(), rejected.strip()
    if c == "Yes" and r == "No":
        return 1
    if c == "No" and r == "Yes":
        return -1
    return None


def write_embeddings(name, embeddings, rows, dtype="F32", metadata=None):
    """Writes NAME.safetensors (tensor "embeddings" [N, d] as F32, F16 or BF16) and NAME.rows.jsonl.

    The safetensors layout by hand (no safetensors package): an 8-byte little-endian header length, the
    JSON header padded with spaces to a multiple of 8, then the tensor's little-endian bytes. Each file
    is written to a temporary name and renamed, so a reader never sees half of it.
    """
    if embeddings.dim() != 2 or embeddings.shape[0] != len(rows):
        raise ValueError(f"embeddings {tuple(embeddings.shape)} do not match {len(rows)} rows")
    torch_dtype = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[dtype]
    t = embeddings.detach().to("cpu", torch_dtype).contiguous()
    # numpy has no bfloat16: 16-bit values go out through their int16 bits (little-endian on x86 and ARM).
    data = (t.view(torch.int16) if t.element_size() == 2 else t).numpy().tobytes()
    header = {"embeddings": {"dtype": dtype, "shape": list(t.shape), "data_offsets": [0, len(data)]}}
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - len(text.encode()) % 8) % 8)
    _write_atomic(f"{name}.safetensors", struct.pack("<Q", len(text.encode())) + text.encode() + data)
    lines = "".join(json.dumps({"id": r["id"], "group": r["group"], "label": r["label"]}) + "\n" for r in rows)
    _write_atomic(f"{name}.rows.jsonl", lines.encode())


def _write_atomic(path, payload):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(payload)
    os.replace(tmp, path)


def read_pairs(path):
    pairs = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            p = json.loads(line)
            for key in ("prompt", "chosen", "rejected"):
                if not isinstance(p.get(key), str):
                    sys.exit(f"embed_hf: {path}:{n}: \"{key}\" must be a string (use `prefdyn data export` to write the file)")
            p.setdefault("group", "all")
            p["id"] = str(p.get("id", n))
            pairs.append(p)
    return pairs


def sequences(tokenizer, pairs, position):
    """Token ids to embed and their rows, as prefdyn's embedPairs builds them."""
    seqs, rows = [], []
    for p in pairs:
        prompt = tokenizer(p["prompt"], add_special_tokens=True)["input_ids"]
        if position == "prompt":
            seqs.append(prompt)
            rows.append({"id": p["id"], "group": p["group"], "label": yes_no_label(p["chosen"], p["rejected"])})
            continue
        for side, label in (("chosen", 1), ("rejected", -1)):
            ids = tokenizer(p[side], add_special_tokens=False)["input_ids"]
            if len(ids) > 1 and tokenizer.eos_token_id is not None:
                ids = ids + [tokenizer.eos_token_id]
            seqs.append(prompt + ids)
            rows.append({"id": f"{p['id']}/{side}", "group": p["group"], "label": label})
    return seqs, rows


@torch.no_grad()
def last_token_hidden(model, seqs, batch_size, device):
    """[N, d] final hidden states at each sequence's last token; batches sorted by length, right-padded."""
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    out = [None] * len(seqs)
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        T = max(len(seqs[i]) for i in idx)
        ids = torch.zeros(len(idx), T, dtype=torch.long)
        mask = torch.zeros(len(idx), T, dtype=torch.long)
        for b, i in enumerate(idx):
            ids[b, : len(seqs[i])] = torch.tensor(seqs[i])
            mask[b, : len(seqs[i])] = 1
        h = model(input_ids=ids.to(device), attention_mask=mask.to(device), output_hidden_states=True).hidden_states[-1]
        for b, i in enumerate(idx):
            out[i] = h[b, len(seqs[i]) - 1].float().cpu()
        print(f"\rembed_hf: {min(start + batch_size, len(order))}/{len(order)}", end="", file=sys.stderr)
    print(file=sys.stderr)
    return torch.stack(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True, help="pairs JSONL (prefdyn data export)")
    ap.add_argument("--out", required=True, help="NAME: writes NAME.safetensors and NAME.rows.jsonl")
    ap.add_argument("--position", choices=["auto", "prompt", "response"], default="auto")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--dtype", choices=["f32", "f16", "bf16"], default="f32", help="dtype of the written embeddings")
    ap.add_argument("--torch-dtype", choices=["bfloat16", "float16", "float32"], default="bfloat16")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    from transformers import AutoModelForCausalLM, AutoTokenizer  # only here: the writer needs torch alone

    pairs = read_pairs(args.data)
    labelled = all(yes_no_label(p["chosen"], p["rejected"]) is not None for p in pairs)
    position = ("prompt" if labelled else "response") if args.position == "auto" else args.position
    if position == "prompt" and not labelled:
        sys.exit("embed_hf: --position prompt needs Yes/No pairs; use --position response")
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForCausalLM.from_pretrained(args.model, torch_dtype=getattr(torch, args.torch_dtype))
    model.to(args.device).eval()
    seqs, rows = sequences(tokenizer, pairs, position)
    context = getattr(model.config, "max_position_embeddings", None)
    too_long = [r["id"] for s, r in zip(seqs, rows) if context and len(s) > context]
    if too_long:
        sys.exit(f"embed_hf: {len(too_long)} sequences exceed the model's {context} positions (first: {too_long[0]})")
    emb = last_token_hidden(model, seqs, args.batch_size, args.device)
    meta = {"position": position, "model": args.model, "data": args.data, "writer": "scripts/embed_hf.py"}
    write_embeddings(args.out, emb, rows, args.dtype.upper(), meta)
    print(f"wrote {len(rows)} embeddings {list(emb.shape)} (at the last {position} token) to {args.out}.safetensors and {args.out}.rows.jsonl")


if __name__ == "__main__":
    main()
