// The tape: one per process. Each op whose inputs need gradients appends a node holding a backward
// closure; the closure captures exactly what that op's backward needs (its saved activations).
// backward(loss) runs the nodes in reverse, accumulates into .grad, and drops each node (and with it
// the saved activations, and the gradient of the intermediate output) as soon as it has run. The tape
// is then empty, so nothing recorded in one training step survives into the next; resetTape() discards
// a forward pass that will not be differentiated.
import type { Rng } from '../util/rng.js';
import { Tensor, uninitialisedFloats } from './tensor.js';

/** Adds d(loss)/d(inputs) into the inputs' gradients, given d(loss)/d(output). */
export type BackwardFn = (gradOutput: Float32Array) => void;

interface Node {
  output: Tensor;
  backward: BackwardFn;
}

let tape: Node[] = [];
let gradEnabled = true;
// Op outputs (not leaves): their gradients are freed once their node's backward has run.
const recordedOutputs = new WeakSet<Tensor>();

/** Runs fn with recording off (inference, reference log-probs, finite differences). */
export function noGrad<T>(fn: () => T): T {
  const before = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = before;
  }
}

/** True when an op on these inputs must be recorded. */
export function needsGrad(...inputs: (Tensor | undefined)[]): boolean {
  if (!gradEnabled) return false;
  for (const t of inputs) if (t?.requiresGrad) return true;
  return false;
}

/**
 * Records `output = op(inputs)` when some input needs a gradient (and grad mode is on); returns output.
 * `backward` must only accumulate into inputs' gradients obtained through gradOf().
 */
export function record(output: Tensor, inputs: (Tensor | undefined)[], backward: BackwardFn): Tensor {
  if (!needsGrad(...inputs)) return output;
  output.requiresGrad = true;
  recordedOutputs.add(output);
  tape.push({ output, backward });
  return output;
}

/** The gradient buffer of t (allocated as zeros on first use), or null when t needs no gradient. */
export function gradOf(t: Tensor | undefined): Float32Array | null {
  if (!t?.requiresGrad) return null;
  return (t.grad ??= new Float32Array(t.data.length));
}

/**
 * t's gradient buffer for a GEMM that adds its product into it, with the beta to pass: 0 when the buffer
 * is new (left unset, so the GEMM overwrites it instead of adding to zeros), 1 when it already holds
 * gradient. null when t needs no gradient.
 */
export function gradForGemm(t: Tensor | undefined): { grad: Float32Array; beta: 0 | 1 } | null {
  if (!t?.requiresGrad) return null;
  if (t.grad !== null) return { grad: t.grad, beta: 1 };
  t.grad = uninitialisedFloats(t.data.length);
  return { grad: t.grad, beta: 0 };
}

/**
 * t.grad += g, for backward rules whose gradient passes through unchanged (reshape, add). When t has no
 * gradient buffer yet, g becomes it instead of being copied into fresh zeros: g is the gradient of the
 * op's output, which the tape drops right after that op's backward, so no one else holds it.
 */
export function accumulateGrad(t: Tensor, g: Float32Array): void {
  if (!t.requiresGrad) return;
  if (t.grad === null && g.length === t.data.length) {
    t.grad = g;
    return;
  }
  const gt = gradOf(t)!;
  for (let i = 0; i < g.length; i++) gt[i]! += g[i]!;
}

/** Number of recorded, not yet differentiated ops. */
export function tapeLength(): number {
  return tape.length;
}

/** Discards everything recorded (a forward pass that will not be differentiated). */
export function resetTape(): void {
  for (const node of tape) if (recordedOutputs.has(node.output)) node.output.grad = null;
  tape = [];
}

/** Backpropagates from a one-element loss, accumulating into every leaf's .grad; empties the tape. */
export function backward(loss: Tensor): void {
  if (loss.data.length !== 1) {
    resetTape();
    throw new Error(`backward: the loss must have one element, got ${loss.describe()}`);
  }
  if (!recordedOutputs.has(loss)) {
    resetTape();
    throw new Error(
      `backward: ${loss.describe()} was not computed by recorded ops (computed under noGrad, or from tensors without requiresGrad)`,
    );
  }
  const nodes = tape;
  tape = [];
  runBackward(nodes, loss, Float32Array.of(1));
}

/** Runs recorded nodes in reverse from `output`'s gradient g; pop() drops each node (and what it saved) once run. */
function runBackward(nodes: Node[], output: Tensor, g: Float32Array): void {
  output.grad = g;
  for (let node = nodes.pop(); node !== undefined; node = nodes.pop()) {
    const gNode = node.output.grad;
    if (gNode !== null) node.backward(gNode);
    node.output.grad = null;
  }
}

/** fn(x) recorded on a tape of its own, which the caller gets back; the outer tape is left as it was. */
function recordedApart(fn: (x: Tensor) => Tensor, x: Tensor): { y: Tensor; nodes: Node[] } {
  const outer = tape;
  tape = [];
  try {
    const y = fn(x);
    return { y, nodes: tape };
  } finally {
    tape = outer;
  }
}

/**
 * y = fn(x) with gradient checkpointing (Hugging Face's gradient_checkpointing, torch.utils.checkpoint):
 * the tape keeps one node holding x instead of fn's activations; backward runs fn again, recorded, and
 * differentiates that. Parameters fn reads (closures) get their gradients then. fn must compute the same
 * values twice: `rng` (dropout) is rewound to its state before the first run for the second, and put
 * back after. x: any shape; y: fn's.
 */
export function checkpoint(x: Tensor, fn: (x: Tensor) => Tensor, rng?: Rng): Tensor {
  if (!gradEnabled) return fn(x);
  const rngBefore = rng?.getState();
  const first = recordedApart(fn, x); // its nodes are dropped here: only x and y stay
  // Nothing in fn needs a gradient: nothing to recompute.
  if (!recordedOutputs.has(first.y)) return first.y;
  const out = new Tensor(first.y.data, first.y.shape, { requiresGrad: true });
  recordedOutputs.add(out);
  tape.push({
    output: out,
    backward: (g) => {
      const input = new Tensor(x.data, x.shape, { requiresGrad: x.requiresGrad });
      const rngAfter = rng?.getState();
      if (rngBefore) rng!.setState(rngBefore);
      const again = recordedApart(fn, input);
      if (rngAfter) rng!.setState(rngAfter);
      if (!recordedOutputs.has(again.y)) throw new Error('checkpoint: the recomputation recorded nothing');
      runBackward(again.nodes, again.y, g);
      if (input.grad !== null) accumulateGrad(x, input.grad);
    },
  });
  return out;
}
