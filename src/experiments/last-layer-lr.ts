// The last-layer learning rate for a model of any hidden-state scale (theory.md s.2). Last-layer DPO is
// logistic regression on beta * s(x) * u g(x) with ||u||^2 = 2, so a plain SGD step changes the margins
// by lr * beta^2 * (Gram of g): lr and beta matter only through lr * beta^2, against the scale of g.
// The paper's lr 0.1 at beta 0.01 is tuned to a 7B model's hidden states; a tiny model's are far
// smaller, and the paper's lr would not move it in 100 steps. We keep beta = 0.01 and set
//   lr = scale / (beta^2 * E||g||^2)
// with E||g||^2 over the base model's prompt embeddings. Scale 1 learns smoothly on the default model
// (lr 40 there); Persona prompts all end in "\n", so their g(x) share a large common component, and at
// scale 3 the label imbalance of each sampled batch already pushes every margin to and fro along it;
// at scale 20 the loss diverges.

export const LR_RULE =
  "lr = scale / (beta^2 * E||g||^2), E||g||^2 over the base model's prompt embeddings of the analysed behaviours";

export function lastLayerLr(beta: number, meanSquaredNorm: number, scale: number): number {
  if (!(meanSquaredNorm > 0))
    throw new Error(`the embeddings have zero norm (E||g||^2 = ${meanSquaredNorm}); cannot scale the learning rate`);
  // Three significant digits: a number a reader can type into `prefdyn train --lr`.
  return Number((scale / (beta * beta * meanSquaredNorm)).toPrecision(3));
}
