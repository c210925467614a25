// Placeholder until the native addon lands: reports that no native build exists.
import type { Kernels } from '../types.js';

export function loadNativeKernels(): { kernels?: Kernels; reason: string } {
  return { reason: 'the native addon is not built yet' };
}
