/* AdamW with PyTorch's semantics (decoupled weight decay applied before the moment update).
 * The arithmetic is in double, like PyTorch's scalar hyperparameters: rounding beta2 = 0.999 to float
 * alone would move 1 - beta2 by 1.3e-5 relative. The loop is bound by memory traffic, not by the math. */
#include <math.h>
#include "kernels.h"

/* p -= lr*wd*p;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps). */
PREFDYN_VECTOR_CLONES void k_adamw(float *param, const float *grad, float *m, float *v, int64_t n,
             double lr, double beta1, double beta2, double eps, double weight_decay, int step) {
  double bc1 = 1.0 - pow(beta1, step), bc2 = 1.0 - pow(beta2, step);
  double decay = 1.0 - lr * weight_decay;
  for (int64_t i = 0; i < n; i++) {
    double g = grad[i];
    double mi = beta1 * m[i] + (1.0 - beta1) * g;
    double vi = beta2 * v[i] + (1.0 - beta2) * g * g;
    m[i] = (float)mi;
    v[i] = (float)vi;
    param[i] = (float)(param[i] * decay - lr * (mi / bc1) / (sqrt(vi / bc2) + eps));
  }
}
