"""One LSTM time step as one node, on the CPU (the reference: `lstm_step` in minidl/nn/rnn.py, 14 nodes).

An LSTM's step works on small arrays ((N, H) and (N, 4H)), so its time goes into the graph's per-node work
(recording, the engine's backward bookkeeping, one NumPy call of ~1-2 µs per op), not into arithmetic. Here
the step is one Function: the gates from one product, the four activations, the new cell and hidden state,
and a backward that writes the four gates' gradients into one (N, 4H) array. The output is h' and c' stacked
as (2, N, H): the engine's nodes have one output each, and `lstm_step` takes the two rows apart.
Same values and gradients as the reference's composition (tests/test_fast_paths.py).
"""

import numpy as np

from minidl.autograd import Function
from minidl.ops.activation import stable_sigmoid
from minidl.ops.fast import on_cpu


class LSTMStepFused(Function):
    """[h'; c'] = [o ⊙ tanh(c'); f ⊙ c + i ⊙ g],  [i f g o] = act(x_part + h W_hhᵀ + b_hh);   dL/dgates = ...
    ... [dc'·g·i(1-i), dc'·c·f(1-f), dc'·i·(1-g²), dh'·tanh(c')·o(1-o)], dc' = dL/dc' + dL/dh'·o·(1-tanh²(c')),
    dL/dx_part = dL/dgates,  dL/dh = dL/dgates @ W_hh,  dL/dc = dc'·f,  dL/dW_hh = dL/dgatesᵀ @ h,  dL/db_hh = Σ_n dL/dgates

    x_part (N, 4H) = x W_ihᵀ + b_ih; h, c (N, H); w_hh (4H, H); b_hh (4H,) or absent; output (2, N, H).
    Saves h, c, w_hh, the four gates and tanh(c').
    """

    @staticmethod
    def applies(backend):
        """On the CPU."""
        return on_cpu(backend)

    def forward(self, x_part, h, c, w_hh, b_hh=None):
        hidden = h.shape[-1]
        gates = x_part + h @ w_hh.T
        if b_hh is not None:
            gates += b_hh
        act = stable_sigmoid(np, gates)  # i, f and o (as the reference Sigmoid); the g block becomes its tanh
        act[:, 2 * hidden:3 * hidden] = np.tanh(gates[:, 2 * hidden:3 * hidden])
        i, f, g, o = (act[:, k * hidden:(k + 1) * hidden] for k in range(4))
        out = np.empty((2,) + h.shape, dtype=h.dtype)
        c_new = np.multiply(f, c, out=out[1])
        c_new += i * g
        tanh_c = np.tanh(c_new)
        np.multiply(o, tanh_c, out=out[0])
        self.saved = (h, c, w_hh, act, tanh_c)
        return out

    def backward(self, g_out):
        h, c, w_hh, act, tanh_c = self.saved
        hidden = h.shape[-1]
        i, f, g, o = (act[:, k * hidden:(k + 1) * hidden] for k in range(4))
        dh_new, dc = g_out[0], g_out[1] + g_out[0] * o * (1 - tanh_c * tanh_c)
        d_gates = np.empty_like(act)
        d_gates[:, 0:hidden] = dc * g * i * (1 - i)
        d_gates[:, hidden:2 * hidden] = dc * c * f * (1 - f)
        d_gates[:, 2 * hidden:3 * hidden] = dc * i * (1 - g * g)
        d_gates[:, 3 * hidden:] = dh_new * tanh_c * o * (1 - o)
        needs = self.needs_grad
        grads = [d_gates if needs[0] else None,
                 d_gates @ w_hh if needs[1] else None,
                 dc * f if needs[2] else None,
                 d_gates.T @ h if needs[3] else None]
        if len(needs) == 5:
            grads.append(d_gates.sum(axis=0) if needs[4] else None)
        return tuple(grads)
