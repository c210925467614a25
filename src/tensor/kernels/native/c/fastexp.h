/* exp for float, written so gcc -O3 vectorises the loops that call it with the baseline x86-64 SSE2
 * (glibc's expf is a call per element). Cephes' expf: x = n ln2 + r with |r| <= ln2/2, e^r by a
 * degree-6 polynomial, 2^n put in the exponent bits. Relative error about 2e-7 (2 ulp).
 * x is clamped to [-87, 88] (so 2^n stays a normal float): e^x for x < -87 gives ~1.6e-38 instead of
 * 0 or a denormal, and x > 88 gives 1.65e38 instead of inf; callers use it where that cannot matter. */
#ifndef PREFDYN_FASTEXP_H
#define PREFDYN_FASTEXP_H

#include <stdint.h>
#include <string.h>

static inline float exp_approx(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  /* n = round(x / ln2): adding and subtracting 1.5 * 2^23 rounds to the nearest integer. */
  float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

#endif
