// SwiGLU and GELU (tanh approximation), elementwise.

const GELU_S = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

export function swigluForward(gate: Float32Array, up: Float32Array, n: number, out: Float32Array): void {
  for (let i = 0; i < n; i++) {
    const g = gate[i]!;
    out[i] = (g / (1 + Math.exp(-g))) * up[i]!;
  }
}

// silu(g) = g sig(g);  silu'(g) = sig(g) (1 + g (1 - sig(g))).
export function swigluBackward(
  dout: Float32Array,
  gate: Float32Array,
  up: Float32Array,
  n: number,
  dgate: Float32Array,
  dup: Float32Array,
): void {
  for (let i = 0; i < n; i++) {
    const g = gate[i]!;
    const sig = 1 / (1 + Math.exp(-g));
    const d = dout[i]!;
    dgate[i] = dgate[i]! + d * up[i]! * sig * (1 + g * (1 - sig));
    dup[i] = dup[i]! + d * g * sig;
  }
}

export function geluForward(x: Float32Array, n: number, out: Float32Array): void {
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    out[i] = 0.5 * v * (1 + Math.tanh(GELU_S * (v + GELU_C * v * v * v)));
  }
}

// d/dx [0.5 x (1 + tanh u)], u = s (x + c x^3):  0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) s (1 + 3 c x^2).
export function geluBackward(dout: Float32Array, x: Float32Array, n: number, dx: Float32Array): void {
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    const t = Math.tanh(GELU_S * (v + GELU_C * v * v * v));
    const d = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * GELU_S * (1 + 3 * GELU_C * v * v);
    dx[i] = dx[i]! + dout[i]! * d;
  }
}
