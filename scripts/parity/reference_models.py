"""Llama and GPT-2 in plain torch, with exactly the Hugging Face transformers semantics and parameter names
(LlamaForCausalLM, GPT2LMHeadModel, eager attention), plus PEFT-style LoRA. The Llama model also covers
MistralForCausalLM (sliding_window), Qwen2ForCausalLM (q/k/v biases), Qwen3ForCausalLM (q_norm/k_norm) and
LlamaForCausalLM's options (head_dim, attention_bias, mlp_bias, rope_scaling linear/dynamic/llama3 in the
transformers 4 and 5 spellings), written from transformers' modeling_llama/mistral/qwen2/qwen3,
modeling_rope_utils and masking_utils. No padding mask: sequences
are right-padded, so causal masking alone leaves every real position exact (prefdyn does the same).
Shapes: B batch, T time, d hidden, H heads, Hkv key/value heads, hd head dim, V vocab."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


# ----------------------------------------------------------------------------- Llama

class LlamaRMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        # HF: variance in float32, then the weight times the normalised input cast back.
        dtype = x.dtype
        h = x.to(torch.float32) if dtype != torch.float64 else x
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * h.to(dtype)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def default_inv_freq(theta, hd):
    # _compute_default_rope_parameters: inv_freq = 1 / theta^(2i/hd), in float32 tensors.
    return 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))


def rope_settings(cfg):
    """(theta, scaling dict) from either spelling: transformers 5's rope_parameters (rope_theta and
    rope_type inside), or transformers 4's rope_theta and rope_scaling ("rope_type", or legacy "type")."""
    params = cfg.get("rope_parameters")
    if params is not None:
        return params["rope_theta"], params
    scaling = cfg.get("rope_scaling") or {}
    return cfg.get("rope_theta", 10000.0), scaling


def inv_freq_for(cfg, hd, T):
    """inv_freq [hd/2] as transformers' LlamaRotaryEmbedding has it for a forward over positions 0..T-1."""
    theta, scaling = rope_settings(cfg)
    kind = scaling.get("rope_type", scaling.get("type", "default"))
    inv_freq = default_inv_freq(theta, hd)
    if kind == "default":
        return inv_freq
    factor = scaling["factor"]
    if kind == "linear":
        # _compute_linear_scaling_rope_parameters: inv_freq /= factor (positions divided by factor).
        return inv_freq / factor
    if kind == "dynamic":
        # dynamic_rope_update: when seq_len = max(position_ids) + 1 passes max_position_embeddings,
        # _compute_dynamic_ntk_parameters runs with seq_len a tensor (so base is a float32 tensor):
        # base = theta * (factor * seq_len / max_pos - (factor - 1)) ** (dim / (dim - 2)).
        max_pos = cfg["max_position_embeddings"]
        if T <= max_pos:
            return inv_freq
        seq_len = torch.maximum(torch.tensor(T), torch.tensor(max_pos))
        base = theta * ((factor * seq_len / max_pos) - (factor - 1)) ** (hd / (hd - 2))
        return 1.0 / (base ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    assert kind == "llama3", kind
    # _compute_llama3_parameters: wavelengths above original/low_freq_factor are divided by factor, those
    # below original/high_freq_factor kept, and the ones between blended by a smooth factor.
    low, high = scaling["low_freq_factor"], scaling["high_freq_factor"]
    old_context_len = scaling["original_max_position_embeddings"]
    low_freq_wavelen = old_context_len / low
    high_freq_wavelen = old_context_len / high
    wavelen = 2 * math.pi / inv_freq
    inv_freq_llama = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    smooth_factor = (old_context_len / wavelen - low) / (high - low)
    smoothed_inv_freq = (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama
    is_medium_freq = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
    return torch.where(is_medium_freq, smoothed_inv_freq, inv_freq_llama)


def rope_cos_sin(T, inv_freq, dtype):
    # HF LlamaRotaryEmbedding: freqs = positions x inv_freq (float32), emb = cat(freqs, freqs).
    freqs = torch.outer(torch.arange(T).float(), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


# Which attention projections have a bias, per model_type (Qwen2: q, k, v always; others: attention_bias).
def attention_biases(cfg):
    if cfg["model_type"] == "qwen2":
        return {"q_proj", "k_proj", "v_proj"}
    return {"q_proj", "k_proj", "v_proj", "o_proj"} if cfg.get("attention_bias", False) else set()


def sliding_window(cfg):
    # Mistral only (Qwen2/3's use_sliding_window is false in these fixtures); MistralConfig defaults to 4096.
    return cfg.get("sliding_window", 4096) if cfg["model_type"] == "mistral" else None


class LlamaAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, self.H, self.Hkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
        self.hd = cfg.get("head_dim") or d // self.H
        self.cfg = cfg
        bias = attention_biases(cfg)
        self.q_proj = nn.Linear(d, self.H * self.hd, bias="q_proj" in bias)
        self.k_proj = nn.Linear(d, self.Hkv * self.hd, bias="k_proj" in bias)
        self.v_proj = nn.Linear(d, self.Hkv * self.hd, bias="v_proj" in bias)
        self.o_proj = nn.Linear(self.H * self.hd, d, bias="o_proj" in bias)
        self.qk_norm = cfg["model_type"] == "qwen3"
        if self.qk_norm:
            # Qwen3Attention: RMSNorm over head_dim of each head, on the projection's output, before RoPE.
            self.q_norm = LlamaRMSNorm(self.hd, cfg["rms_norm_eps"])
            self.k_norm = LlamaRMSNorm(self.hd, cfg["rms_norm_eps"])
        self.window = sliding_window(cfg)

    def forward(self, x):  # x: [B,T,d]
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.H, self.hd)  # [B,T,H,hd]
        k = self.k_proj(x).view(B, T, self.Hkv, self.hd)  # [B,T,Hkv,hd]
        if self.qk_norm:
            q, k = self.q_norm(q), self.k_norm(k)
        q, k = q.transpose(1, 2), k.transpose(1, 2)  # [B,H,T,hd], [B,Hkv,T,hd]
        v = self.v_proj(x).view(B, T, self.Hkv, self.hd).transpose(1, 2)
        cos, sin = rope_cos_sin(T, inv_freq_for(self.cfg, self.hd, T), x.dtype)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = self.H // self.Hkv  # repeat_kv: query head h uses kv head h // rep
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        att = q @ k.transpose(2, 3) / math.sqrt(self.hd)  # [B,H,T,T]
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        if self.window is not None:
            # masking_utils.sliding_window_overlay: kv_idx > q_idx - sliding_window (W keys, itself included).
            q_idx, kv_idx = torch.arange(T).view(T, 1), torch.arange(T).view(1, T)
            causal = causal & (kv_idx > q_idx - self.window)
        att = att.masked_fill(~causal, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, self.H * self.hd)
        return self.o_proj(y)


class LlamaMLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, f = cfg["hidden_size"], cfg["intermediate_size"]
        bias = cfg.get("mlp_bias", False)  # LlamaMLP only; Mistral/Qwen have none
        self.gate_proj = nn.Linear(d, f, bias=bias)
        self.up_proj = nn.Linear(d, f, bias=bias)
        self.down_proj = nn.Linear(f, d, bias=bias)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class LlamaDecoderLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.self_attn = LlamaAttention(cfg)
        self.mlp = LlamaMLP(cfg)
        self.input_layernorm = LlamaRMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])
        self.post_attention_layernorm = LlamaRMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])

    def forward(self, x):
        x = x + self.self_attn(self.input_layernorm(x))
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], cfg["hidden_size"])
        self.layers = nn.ModuleList(LlamaDecoderLayer(cfg) for _ in range(cfg["num_hidden_layers"]))
        self.norm = LlamaRMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])

    def forward(self, ids):
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = layer(x)
        return self.norm(x)


class LlamaForCausalLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.model = LlamaModel(cfg)
        self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)
        if cfg["tie_word_embeddings"]:
            self.lm_head.weight = self.model.embed_tokens.weight

    def forward(self, ids):  # ids: [B,T] -> hidden [B,T,d] (after the final norm), logits [B,T,V]
        hidden = self.model(ids)
        return hidden, self.lm_head(hidden)


# ----------------------------------------------------------------------------- GPT-2

class Conv1D(nn.Module):
    """HF's Conv1D: weight stored [in, out], y = x @ W + b."""

    def __init__(self, nf, nx):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x):
        return x @ self.weight + self.bias


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class GPT2Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["n_embd"]
        self.H, self.hd = cfg["n_head"], d // cfg["n_head"]
        self.c_attn = Conv1D(3 * d, d)
        self.c_proj = Conv1D(d, d)

    def forward(self, x):  # x: [B,T,d]
        B, T, d = x.shape
        q, k, v = self.c_attn(x).split(d, dim=2)
        q, k, v = (t.view(B, T, self.H, self.hd).transpose(1, 2) for t in (q, k, v))  # [B,H,T,hd]
        att = q @ k.transpose(-1, -2) / math.sqrt(self.hd)
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        att = att.masked_fill(~causal, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, d)
        return self.c_proj(y)


class GPT2MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["n_embd"]
        self.c_fc = Conv1D(4 * d, d)
        self.c_proj = Conv1D(d, 4 * d)

    def forward(self, x):
        return self.c_proj(gelu_new(self.c_fc(x)))


class GPT2Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, eps = cfg["n_embd"], cfg["layer_norm_epsilon"]
        self.ln_1 = nn.LayerNorm(d, eps=eps)
        self.attn = GPT2Attention(cfg)
        self.ln_2 = nn.LayerNorm(d, eps=eps)
        self.mlp = GPT2MLP(cfg)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT2Model(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.wte = nn.Embedding(cfg["vocab_size"], cfg["n_embd"])
        self.wpe = nn.Embedding(cfg["n_positions"], cfg["n_embd"])
        self.h = nn.ModuleList(GPT2Block(cfg) for _ in range(cfg["n_layer"]))
        self.ln_f = nn.LayerNorm(cfg["n_embd"], eps=cfg["layer_norm_epsilon"])

    def forward(self, ids):
        T = ids.shape[1]
        x = self.wte(ids) + self.wpe(torch.arange(T))
        for block in self.h:
            x = block(x)
        return self.ln_f(x)


class GPT2LMHeadModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.transformer = GPT2Model(cfg)
        self.lm_head = nn.Linear(cfg["n_embd"], cfg["vocab_size"], bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # GPT-2 always ties

    def forward(self, ids):
        hidden = self.transformer(ids)
        return hidden, self.lm_head(hidden)


# ----------------------------------------------------------------------------- LoRA (PEFT semantics)

class LoraWrapped(nn.Module):
    """PEFT's lora.Linear: y = base(x) + lora_B(lora_A(dropout(x))) * alpha/r.
    lora_A.weight [r, in], lora_B.weight [out, r], for nn.Linear and for GPT-2's Conv1D
    (fan_in_fan_out: the base weight is [in, out], the adapter matrices are the same)."""

    def __init__(self, base, r, alpha, fan_in_fan_out):
        super().__init__()
        self.base_layer = base
        w = base.weight
        n_in, n_out = (w.shape[0], w.shape[1]) if fan_in_fan_out else (w.shape[1], w.shape[0])
        self.lora_A = nn.Linear(n_in, r, bias=False)
        self.lora_B = nn.Linear(r, n_out, bias=False)
        self.scaling = alpha / r
        self.fan_in_fan_out = fan_in_fan_out

    def forward(self, x):
        return self.base_layer(x) + self.lora_B(self.lora_A(x)) * self.scaling

    def merged_delta(self):
        """The update PEFT's merge adds to the base weight, in the base weight's layout."""
        delta = self.lora_B.weight @ self.lora_A.weight * self.scaling  # [out, in]
        return delta.T if self.fan_in_fan_out else delta


def apply_lora(model, target_modules, r, alpha, fan_in_fan_out):
    """Replaces every submodule whose last name is in target_modules; returns {module path: wrapper}."""
    wrapped = {}
    for path, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if child_name in target_modules:
                full = f"{path}.{child_name}" if path else child_name
                wrapper = LoraWrapped(child, r, alpha, fan_in_fan_out)
                setattr(module, child_name, wrapper)
                wrapped[full] = wrapper
    return wrapped


# ----------------------------------------------------------------------------- GPT-NeoX (Pythia)

def neox_rope(cfg):
    """(theta, rotary_pct) from either spelling: transformers 5's rope_parameters or 4's rotary_emb_base /
    rotary_pct (GPTNeoXConfig defaults 10000 and 0.25)."""
    params = cfg.get("rope_parameters") or {}
    theta = params.get("rope_theta", cfg.get("rotary_emb_base", cfg.get("rope_theta", 10000)))
    pct = params.get("partial_rotary_factor", cfg.get("rotary_pct", cfg.get("partial_rotary_factor", 0.25)))
    return theta, pct


class GPTNeoXAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["hidden_size"]
        self.H = cfg["num_attention_heads"]
        self.hd = d // self.H
        self.theta, pct = neox_rope(cfg)
        self.rd = int(self.hd * pct)  # HF's rotary_ndims
        bias = cfg.get("attention_bias", True)
        self.query_key_value = nn.Linear(d, 3 * d, bias=bias)
        self.dense = nn.Linear(d, d, bias=bias)

    def forward(self, x):  # x: [B,T,d]
        B, T, d = x.shape
        # HF: qkv viewed as [B,T,H,3*hd], each head's q | k | v side by side, then heads first.
        qkv = self.query_key_value(x).view(B, T, self.H, 3 * self.hd).permute(0, 2, 1, 3)  # [B,H,T,3hd]
        q, k, v = qkv[..., : self.hd], qkv[..., self.hd : 2 * self.hd], qkv[..., 2 * self.hd :]
        # Partial rotary: rotate_half RoPE on the first rotary_ndims channels (inv_freq over rotary_ndims).
        cos, sin = rope_cos_sin(T, default_inv_freq(self.theta, self.rd), x.dtype)
        q_rot, q_pass = q[..., : self.rd], q[..., self.rd :]
        k_rot, k_pass = k[..., : self.rd], k[..., self.rd :]
        q = torch.cat((q_rot * cos + rotate_half(q_rot) * sin, q_pass), dim=-1)
        k = torch.cat((k_rot * cos + rotate_half(k_rot) * sin, k_pass), dim=-1)
        att = q @ k.transpose(-1, -2) / math.sqrt(self.hd)  # HF: norm_factor = sqrt(head_size)
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        att = F.softmax(att.masked_fill(~causal, float("-inf")), dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, d)
        return self.dense(y)


class GPTNeoXMLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, f = cfg["hidden_size"], cfg["intermediate_size"]
        self.dense_h_to_4h = nn.Linear(d, f)
        self.dense_4h_to_h = nn.Linear(f, d)
        # ACT2FN: "gelu" is the exact (erf) GELU; "gelu_new" / "gelu_pytorch_tanh" the tanh form.
        self.exact = cfg.get("hidden_act", "gelu") == "gelu"

    def forward(self, x):
        h = self.dense_h_to_4h(x)
        h = F.gelu(h) if self.exact else F.gelu(h, approximate="tanh")
        return self.dense_4h_to_h(h)


class GPTNeoXLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, eps = cfg["hidden_size"], cfg.get("layer_norm_eps", 1e-5)
        self.use_parallel_residual = cfg.get("use_parallel_residual", True)
        self.input_layernorm = nn.LayerNorm(d, eps=eps)
        self.post_attention_layernorm = nn.LayerNorm(d, eps=eps)
        self.attention = GPTNeoXAttention(cfg)
        self.mlp = GPTNeoXMLP(cfg)

    def forward(self, x):
        attn = self.attention(self.input_layernorm(x))
        if self.use_parallel_residual:
            # x = x + attn(ln1(x)) + mlp(ln2(x))
            return self.mlp(self.post_attention_layernorm(x)) + attn + x
        # x = x + attn(ln1(x)); x = x + mlp(ln2(x))
        attn = attn + x
        return self.mlp(self.post_attention_layernorm(attn)) + attn


class GPTNeoXModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_in = nn.Embedding(cfg["vocab_size"], cfg["hidden_size"])
        self.layers = nn.ModuleList(GPTNeoXLayer(cfg) for _ in range(cfg["num_hidden_layers"]))
        self.final_layer_norm = nn.LayerNorm(cfg["hidden_size"], eps=cfg.get("layer_norm_eps", 1e-5))

    def forward(self, ids):
        x = self.embed_in(ids)
        for layer in self.layers:
            x = layer(x)
        return self.final_layer_norm(x)


class GPTNeoXForCausalLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.gpt_neox = GPTNeoXModel(cfg)
        self.embed_out = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)
        if cfg.get("tie_word_embeddings", False):
            self.embed_out.weight = self.gpt_neox.embed_in.weight

    def forward(self, ids):
        hidden = self.gpt_neox(ids)
        return hidden, self.embed_out(hidden)


# ----------------------------------------------------------------------------- Gemma and Gemma-2

class GemmaRMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(d))  # HF initialises w = 0: the scale is 1 + w
        self.eps = eps

    def forward(self, x):
        # HF GemmaRMSNorm: x.float() normalised, times (1.0 + weight.float()), then cast back.
        dtype = x.dtype
        h = x.to(torch.float32) if dtype != torch.float64 else x
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        w = self.weight.to(h.dtype)
        return (h * (1.0 + w)).to(dtype)


def softcap(x, cap):
    # HF Gemma-2: x = x / cap; x = tanh(x); x = x * cap
    return torch.tanh(x / cap) * cap


class GemmaAttention(nn.Module):
    def __init__(self, cfg, layer_idx, gemma2):
        super().__init__()
        d, self.H, self.Hkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
        self.hd = cfg["head_dim"]
        self.theta = rope_settings(cfg)[0]
        bias = cfg.get("attention_bias", False)
        self.q_proj = nn.Linear(d, self.H * self.hd, bias=bias)
        self.k_proj = nn.Linear(d, self.Hkv * self.hd, bias=bias)
        self.v_proj = nn.Linear(d, self.Hkv * self.hd, bias=bias)
        self.o_proj = nn.Linear(self.H * self.hd, d, bias=bias)
        # Gemma: 1/sqrt(head_dim); Gemma-2: query_pre_attn_scalar ** -0.5
        self.scaling = (cfg["query_pre_attn_scalar"] if gemma2 else self.hd) ** -0.5
        self.softcap = cfg.get("attn_logit_softcapping") if gemma2 else None
        # Gemma2DecoderLayer (transformers 4.42+): is_sliding = not bool(layer_idx % 2)
        self.window = cfg["sliding_window"] if gemma2 and layer_idx % 2 == 0 else None

    def forward(self, x):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.H, self.hd).transpose(1, 2)
        k = self.k_proj(x).view(B, T, self.Hkv, self.hd).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.Hkv, self.hd).transpose(1, 2)
        cos, sin = rope_cos_sin(T, default_inv_freq(self.theta, self.hd), x.dtype)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = self.H // self.Hkv
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        att = (q @ k.transpose(2, 3)) * self.scaling
        if self.softcap is not None:
            att = softcap(att, self.softcap)  # before the mask, as HF's eager attention
        allowed = torch.ones(T, T, dtype=torch.bool).tril()
        if self.window is not None:
            # HF: sliding_window_mask = tril(ones, diagonal=-sliding_window) masks key j <= i - window
            allowed &= ~torch.ones(T, T, dtype=torch.bool).tril(diagonal=-self.window)
        att = F.softmax(att.masked_fill(~allowed, float("-inf")), dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, self.H * self.hd)
        return self.o_proj(y)


class GemmaMLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, f = cfg["hidden_size"], cfg["intermediate_size"]
        self.gate_proj = nn.Linear(d, f, bias=False)
        self.up_proj = nn.Linear(d, f, bias=False)
        self.down_proj = nn.Linear(f, d, bias=False)

    def forward(self, x):
        # hidden_activation gelu_pytorch_tanh
        return self.down_proj(F.gelu(self.gate_proj(x), approximate="tanh") * self.up_proj(x))


class GemmaDecoderLayer(nn.Module):
    def __init__(self, cfg, layer_idx, gemma2):
        super().__init__()
        d, eps = cfg["hidden_size"], cfg.get("rms_norm_eps", 1e-6)
        self.gemma2 = gemma2
        self.self_attn = GemmaAttention(cfg, layer_idx, gemma2)
        self.mlp = GemmaMLP(cfg)
        self.input_layernorm = GemmaRMSNorm(d, eps)
        self.post_attention_layernorm = GemmaRMSNorm(d, eps)
        if gemma2:
            self.pre_feedforward_layernorm = GemmaRMSNorm(d, eps)
            self.post_feedforward_layernorm = GemmaRMSNorm(d, eps)

    def forward(self, x):
        if not self.gemma2:
            x = x + self.self_attn(self.input_layernorm(x))
            return x + self.mlp(self.post_attention_layernorm(x))
        # Gemma-2: norms before and after both the attention and the MLP
        x = x + self.post_attention_layernorm(self.self_attn(self.input_layernorm(x)))
        return x + self.post_feedforward_layernorm(self.mlp(self.pre_feedforward_layernorm(x)))


class GemmaModel(nn.Module):
    def __init__(self, cfg, gemma2):
        super().__init__()
        self.hidden_size = cfg["hidden_size"]
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], cfg["hidden_size"])
        self.layers = nn.ModuleList(GemmaDecoderLayer(cfg, i, gemma2) for i in range(cfg["num_hidden_layers"]))
        self.norm = GemmaRMSNorm(cfg["hidden_size"], cfg.get("rms_norm_eps", 1e-6))

    def forward(self, ids):
        x = self.embed_tokens(ids)
        # HF: normalizer = torch.tensor(hidden_size ** 0.5, dtype=hidden_states.dtype)
        x = x * torch.tensor(self.hidden_size**0.5, dtype=x.dtype)
        for layer in self.layers:
            x = layer(x)
        return self.norm(x)


class GemmaForCausalLM(nn.Module):
    gemma2 = False

    def __init__(self, cfg):
        super().__init__()
        self.model = GemmaModel(cfg, self.gemma2)
        self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)
        if cfg.get("tie_word_embeddings", True):
            self.lm_head.weight = self.model.embed_tokens.weight
        self.final_softcap = cfg.get("final_logit_softcapping") if self.gemma2 else None

    def forward(self, ids):
        hidden = self.model(ids)
        logits = self.lm_head(hidden)
        if self.final_softcap is not None:
            logits = softcap(logits, self.final_softcap)
        return hidden, logits


class Gemma2ForCausalLM(GemmaForCausalLM):
    gemma2 = True
