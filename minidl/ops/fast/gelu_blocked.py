"""Exact GELU on float32 CPU arrays: one exp shared by Φ and φ, the backward's slope made in the forward.

The reference GELU (minidl/ops/gelu.py) calls Backend.erf, whose float32 erf is a rational function
evaluated in float64 (~20 NumPy passes), then makes ~6 more passes in the forward and 7 in the backward
(φ needs an exp of its own). Here, per block of BLOCK elements (the passes stay in the cache), in float32:

    φ(x)   = exp(-x²/2 + ln(1/√(2π)))                                    the normal density
    1-Φ(|x|) = φ(x) · Σ_k c_k t^k,  t = 1/(1 + p |x|/√2),  k = 1..5       Abramowitz & Stegun 7.1.26
                         computed from s = 1/(√2/p + |x|) = t p/√2 (one pass fewer), c_k (√2/p)^k folded in
    Φ(x)   = 1/2 + sign(x) (1/2 - (1-Φ(|x|)))                            the tail folded by symmetry
    y = x Φ(x),    slope = Φ(x) + x φ(x) = dy/dx                         saved for the backward

7.1.26 gives erfc(z) = (a1 t + ... + a5 t⁵) e^(-z²) with |error| ≤ 1.5e-7 (z = |x|/√2,
e^(-z²) = φ(x)·√(2π): the c_k are a_k·√(2π)/2); with float32 rounding Φ is within ~2.2e-7 of the exact
value, the slope within ~2.7e-7 (tests/test_fast_paths.py holds both to 4e-7). The forward makes 23
passes instead of 27 (and the float64 erf's 20), and the backward is one product, dL/dy * slope, instead
of 7 passes.
"""

import math

import numpy as np

from minidl.ops.fast import on_cpu
from minidl.ops.gelu import GELU

BLOCK = 32768  # float32 elements: three scratch arrays of 128 KiB and the slices they fill stay in L2; smaller
#                blocks pay NumPy's per-call cost more often (benchmarks/RESULTS.md, session 8)
_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)  # a1..a5 of 7.1.26
_P = 0.3275911 / math.sqrt(2.0)  # 7.1.26's p, for z = |x|/√2: t = 1 / (1 + P |x|) = s / P with s = 1 / (1/P + |x|)
_C = tuple(a * math.sqrt(2.0 * math.pi) / 2.0 / _P ** k for k, a in enumerate(_A, 1))  # 1-Φ(|x|) = φ(x) Σ c_k s^k
_LOG_INV_SQRT_2PI = -0.5 * math.log(2.0 * math.pi)


class GELUBlocked(GELU):
    """y = x Φ(x);   dL/dx = dL/dy * (Φ(x) + x φ(x))   (float32 on the CPU; Φ from φ, slope saved)"""

    name = "GELU"  # the op it computes, as graphs, traces and parity show it

    @staticmethod
    def applies(backend, dtype):
        """On the CPU for float32 x."""
        return on_cpu(backend) and dtype == np.float32

    def forward(self, x):
        y = np.empty(x.shape, dtype=np.float32)
        slope = np.empty(x.shape, dtype=np.float32)
        flat_x = np.ascontiguousarray(x).reshape(-1)
        flat_y, flat_slope = y.reshape(-1), slope.reshape(-1)
        n_blocks = -(-flat_x.size // BLOCK)

        def blocks(first, last):
            t_, tail_, pdf_ = (np.empty(BLOCK, dtype=np.float32) for _ in range(3))  # scratch of this thread
            for start in range(first * BLOCK, min(last * BLOCK, flat_x.size), BLOCK):
                stop = min(start + BLOCK, flat_x.size)
                n = stop - start
                xs = flat_x[start:stop]
                t = np.abs(xs, out=t_[:n])  # s = 1 / (1/P + |x|) = P t
                t += 1.0 / _P
                np.reciprocal(t, out=t)
                tail = np.multiply(t, _C[-1], out=tail_[:n])  # Σ c_k t^k by Horner's rule
                for c in _C[-2::-1]:
                    tail += c
                    tail *= t
                pdf = np.multiply(xs, xs, out=pdf_[:n])  # φ(x) = exp(-x²/2 - ln √(2π))
                pdf *= -0.5
                pdf += _LOG_INV_SQRT_2PI
                np.exp(pdf, out=pdf)
                tail *= pdf  # 1 - Φ(|x|)
                cdf = np.subtract(0.5, tail, out=tail)  # Φ(|x|) - 1/2, then Φ(x)
                np.copysign(cdf, xs, out=cdf)
                cdf += 0.5
                np.multiply(xs, cdf, out=flat_y[start:stop])
                pdf *= xs
                np.add(cdf, pdf, out=flat_slope[start:stop])  # Φ(x) + x φ(x)

        self.backend.parallel(blocks, n_blocks, 23 * flat_x.size)
        self.saved = (slope,)
        return y

    def backward(self, gy):
        (slope,) = self.saved
        return np.multiply(gy, slope, dtype=np.float32)
