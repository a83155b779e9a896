"""Recurrent layers: RNN, LSTM, GRU over whole sequences, and their one-step cells RNNCell, LSTMCell, GRUCell.

PyTorch's names, shapes, gate order and initialisation, so a state_dict lines up with PyTorch's.

Each step formula has one home, a function below (`rnn_step`, `lstm_step`, `gru_step`) that a cell
calls once and a layer calls once per time step. A step receives the input's part of the gates,
x W_ihᵀ + b_ih, already computed: a cell computes it for its one input, a layer for the whole sequence
at once (one matrix product (L·N, H_in) @ (H_in, gates·H) instead of L small ones), and only the
recurrent part h W_hhᵀ + b_hh runs step by step.

Backpropagation through time is nothing new here: the loop over time steps builds an ordinary graph of
the existing ops (linear, sigmoid, tanh, slicing, stack), unrolled over the sequence, and `backward()`
runs the chain rule back through it, from the last step to the first.

Shapes (L sequence length, N batch, H hidden size, G the number of gates: RNN 1, LSTM 4, GRU 3):
    x (L, N, H_in), or (N, L, H_in) with batch_first, or (L, H_in) unbatched
    h0, h_n (num_layers, N, H), or (num_layers, H) unbatched (batch_first does not change them)
    output (L, N, H) (or (N, L, H) with batch_first): the last layer's h at every step
    weight_ih_l{k} (G·H, H_in) for layer 0, (G·H, H) above;  weight_hh_l{k} (G·H, H);  biases (G·H,)

The weights are row-major, unlike a narrowing nn.Linear's column-major CPU weight (Backend.linear_weight_order):
every step's backward needs dL/dh = dL/dgates @ W_hh, which OpenBLAS ran 2-3x faster on a row-major W
here, more than the forward products lose (an LSTM(65, 128) step, L=64, N=12: 17% faster overall).
"""

import math
import numbers
import warnings

from minidl.creation import zeros
from minidl.errors import ArgumentError, ArgumentTypeError, DTypeError, ShapeError
from minidl.nn import functional as F
from minidl.nn import init
from minidl.nn.checks import size
from minidl.nn.module import Module
from minidl.nn.parameter import empty_parameter
from minidl.ops import fast, stack
from minidl.tensor import Tensor

_ACTIVATIONS = {"tanh": F.tanh, "relu": F.relu}


# -- one time step: the formulas (PyTorch's documentation, same names) ------------------------------------
def rnn_step(x_part, h, w_hh, b_hh, nonlinearity="tanh"):
    """h' = act(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh),  act = tanh or relu.

    x_part = x W_ihᵀ + b_ih (N, H), computed by the caller;  h (N, H);  w_hh (H, H);  b_hh (H,) or None.
    """
    return _ACTIVATIONS[nonlinearity](x_part + F.linear(h, w_hh, b_hh))


def lstm_step(x_part, h, c, w_hh, b_hh):
    """One LSTM step; the gates are the four H-wide blocks of x W_ihᵀ + b_ih + h W_hhᵀ + b_hh, in order i, f, g, o:

        i = σ(W_ii x + b_ii + W_hi h + b_hi)       input gate: how much of g to write
        f = σ(W_if x + b_if + W_hf h + b_hf)       forget gate: how much of c to keep
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)    the candidate cell values
        o = σ(W_io x + b_io + W_ho h + b_ho)       output gate: how much of the cell to show
        c' = f ⊙ c + i ⊙ g
        h' = o ⊙ tanh(c')

    x_part = x W_ihᵀ + b_ih (N, 4H);  h, c (N, H);  w_hh (4H, H);  b_hh (4H,) or None.  Returns (h', c').
    The additive path c -> f ⊙ c is why gradients survive many steps (dc/dc' = f, no squashing).
    On the CPU with fast paths on, the same step runs as one node (ops/fast/lstm_step_fused.py).
    """
    fused = fast.choose("lstm_step", h._backend)  # one node for the whole step (ops/fast/lstm_step_fused.py)
    if fused is not None:
        hc = fused()(x_part, h, c, w_hh) if b_hh is None else fused()(x_part, h, c, w_hh, b_hh)
        return hc[0], hc[1]
    H = h.shape[-1]
    gates = x_part + F.linear(h, w_hh, b_hh)
    i = F.sigmoid(gates[:, 0:H])
    f = F.sigmoid(gates[:, H:2 * H])
    g = F.tanh(gates[:, 2 * H:3 * H])
    o = F.sigmoid(gates[:, 3 * H:4 * H])
    c = f * c + i * g
    return o * F.tanh(c), c


def gru_step(x_part, h, w_hh, b_hh):
    """One GRU step; x_part and h W_hhᵀ + b_hh each hold three H-wide blocks, in order r, z, n:

        r = σ(W_ir x + b_ir + W_hr h + b_hr)             reset gate
        z = σ(W_iz x + b_iz + W_hz h + b_hz)             update gate: how much of h to keep
        n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))    the candidate (r scales h's part, bias included)
        h' = (1 - z) ⊙ n + z ⊙ h

    x_part = x W_ihᵀ + b_ih (N, 3H);  h (N, H);  w_hh (3H, H);  b_hh (3H,) or None.
    """
    H = h.shape[-1]
    h_part = F.linear(h, w_hh, b_hh)  # kept apart from x_part: r multiplies only h's block of n
    r = F.sigmoid(x_part[:, 0:H] + h_part[:, 0:H])
    z = F.sigmoid(x_part[:, H:2 * H] + h_part[:, H:2 * H])
    n = F.tanh(x_part[:, 2 * H:3 * H] + r * h_part[:, 2 * H:3 * H])
    return (1 - z) * n + z * h


# -- a whole sequence ------------------------------------------------------------------------------------
def input_part(x, w_ih, b_ih):
    """x W_ihᵀ + b_ih for every time step at once: x (L, N, H_in) -> (L, N, G·H), one matrix product."""
    L, N, H_in = x.shape
    return F.linear(x.reshape(L * N, H_in), w_ih, b_ih).reshape(L, N, w_ih.shape[0])


def time_steps(seq):
    """[seq[0], seq[1], ..., seq[L-1]] for seq (L, ...): the per-step slices the recurrence reads.

    Why not `[seq[t] for t in range(L)]`: the backward of each `seq[t]` builds a gradient of seq's full
    size (zeros with one row filled), and the L of them are summed: O(L²) numbers moved for L steps.
    Halving instead (seq -> two halves -> their halves ... -> rows) costs one full size per level, O(L log L)
    (an LSTM(65, 128) with L=64, N=12: forward + backward a third faster, measured).
    """
    if seq.shape[0] <= 2:
        return [seq[t] for t in range(seq.shape[0])]
    middle = seq.shape[0] // 2
    return time_steps(seq[:middle]) + time_steps(seq[middle:])


def run_layers(x, states, weights, step, dropout=0.0, training=False):
    """Run stacked recurrent layers over a time-major sequence; the graph is the loop, unrolled.

    x (L, N, H_in);  states: per layer, the initial state as a tuple ((h,) or (h, c), each (N, H));
    weights: per layer, (w_ih, w_hh, b_ih, b_hh) (biases may be None);
    step(x_part, state, w_hh, b_hh) -> the next state (a tuple, its first entry h).
    Layer k's outputs h_1..h_L are layer k+1's inputs, after dropout (training only; never after the last).
    Returns (output (L, N, H) of the last layer, the final state of each layer).
    """
    finals = []
    for k, ((w_ih, w_hh, b_ih, b_hh), state) in enumerate(zip(weights, states)):
        if k > 0:
            x = F.dropout(x, dropout, training)
        outputs = []
        for x_part in time_steps(input_part(x, w_ih, b_ih)):
            state = step(x_part, state, w_hh, b_hh)
            outputs.append(state[0])
        x = stack(outputs, axis=0)
        finals.append(state)
    return x, finals


# -- the layers ------------------------------------------------------------------------------------------
class _RecurrentLayer(Module):
    """What RNN, LSTM and GRU share: parameters per layer, input checks, the batch_first/unbatched plumbing."""

    num_gates = 1
    state_size = 1  # tensors in a state: LSTM 2 (h, c), the others 1 (h)

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 dtype=None, device="cpu"):
        super().__init__()
        name = type(self).__name__
        self.input_size = size(name, "input_size", input_size)
        self.hidden_size = size(name, "hidden_size", hidden_size)
        self.num_layers = size(name, "num_layers", num_layers)
        self.bias, self.batch_first = bool(bias), bool(batch_first)
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout <= 1:
            raise ArgumentError(f"{name}: dropout is the probability of zeroing an element between layers and "
                                f"must be a number in [0, 1], got {dropout!r}")
        if dropout > 0 and self.num_layers == 1:
            warnings.warn(f"{name}: dropout={dropout} acts between layers only, and num_layers=1 has none",
                          stacklevel=2)
        self.dropout = float(dropout)
        rows = self.num_gates * self.hidden_size
        for k in range(self.num_layers):  # PyTorch's order: weight_ih, weight_hh, bias_ih, bias_hh per layer
            layer_in = self.input_size if k == 0 else self.hidden_size
            setattr(self, f"weight_ih_l{k}", empty_parameter((rows, layer_in), dtype, device))
            setattr(self, f"weight_hh_l{k}", empty_parameter((rows, self.hidden_size), dtype, device))
            if self.bias:
                setattr(self, f"bias_ih_l{k}", empty_parameter((rows,), dtype, device))
                setattr(self, f"bias_hh_l{k}", empty_parameter((rows,), dtype, device))
        reset_uniform_(self, self.hidden_size)

    def layer_weights(self):
        """Per layer, (weight_ih, weight_hh, bias_ih, bias_hh); the biases are None without bias."""
        return [tuple(getattr(self, f"{kind}_l{k}", None) for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
                for k in range(self.num_layers)]

    def step(self, x_part, state, w_hh, b_hh):
        raise NotImplementedError

    def forward(self, x, h0=None):
        """x (L, N, H_in) (or (N, L, H_in) with batch_first, or (L, H_in)) -> (output, h_n); LSTM: h0 = (h0, c0)
        and (output, (h_n, c_n)). A missing h0 means zeros."""
        batched = self._check_input(x)
        if not batched:
            x = x.expand_dims(1)  # (L, 1, H_in): a batch of one
        elif self.batch_first:
            x = x.transpose(1, 0, 2)
        initial = self._initial_state(h0, x, batched)
        states = [tuple(s[k] for s in initial) for k in range(self.num_layers)]
        output, finals = run_layers(x, states, self.layer_weights(), self.step, self.dropout, self.training)
        final = tuple(stack([state[j] for state in finals], axis=0) for j in range(self.state_size))
        if not batched:
            output, final = output.squeeze(1), tuple(s.squeeze(1) for s in final)
        elif self.batch_first:
            output = output.transpose(1, 0, 2)
        return output, final[0] if self.state_size == 1 else final

    def _expected_input(self):
        order = "(N, L, {0})" if self.batch_first else "(L, N, {0})"
        return f"{order.format(self.input_size)} (or (L, {self.input_size}) unbatched)"

    def _check_input(self, x):
        """True for a batch (3-d x), False for one sequence (2-d x); else an error naming the layer."""
        if not isinstance(x, Tensor):
            raise ArgumentTypeError(f"{self!r}: the input must be a minidl Tensor, got {type(x).__name__}")
        expected = f"{self!r} expects input of shape {self._expected_input()}, got {x.shape}"
        if x.ndim not in (2, 3):
            raise ShapeError(f"{expected} ({x.ndim} dimensions)")
        if x.shape[-1] != self.input_size:
            raise ShapeError(f"{expected}: {x.shape[-1]} features instead of input_size={self.input_size}")
        if x.shape[1 if x.ndim == 3 and self.batch_first else 0] == 0:
            raise ShapeError(f"{expected}: a sequence needs at least one time step")
        if x.dtype.kind != "f":
            raise DTypeError(f"{self!r} expects a floating-point input, got {x.dtype} (for token indices, put an "
                             f"nn.Embedding first)")
        return x.ndim == 3

    def _initial_state(self, h0, x, batched):
        """The initial state as a tuple of (num_layers, N, H) tensors (zeros where h0 is None)."""
        N = x.shape[1]
        names = ("h0",) if self.state_size == 1 else ("h0", "c0")
        if h0 is None:
            return tuple(zeros((self.num_layers, N, self.hidden_size), dtype=x.dtype, device=x.device)
                         for _ in names)
        if self.state_size == 1:
            h0 = (h0,)
        elif not isinstance(h0, (tuple, list)) or len(h0) != 2:
            raise ArgumentTypeError(f"{self!r}: the initial state must be a tuple (h0, c0) of two tensors, got "
                                    f"{type(h0).__name__}")
        expected = (self.num_layers, N, self.hidden_size) if batched else (self.num_layers, self.hidden_size)
        state = []
        for name, s in zip(names, h0):
            if not isinstance(s, Tensor):
                raise ArgumentTypeError(f"{self!r}: {name} must be a minidl Tensor, got {type(s).__name__}")
            if s.shape != expected:
                given = x.shape if batched else (x.shape[0], x.shape[2])
                raise ShapeError(f"{self!r}: {name} must have shape {expected} (num_layers, "
                                 f"{'N, ' if batched else ''}hidden_size) for input of shape {given}, got {s.shape}")
            state.append(s if batched else s.expand_dims(1))
        return tuple(state)

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        return text


class RNN(_RecurrentLayer):
    """Elman RNN, per layer and time step:  h_t = act(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh)  (act tanh or relu).

    RNN(input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False, dropout=0.0);
    forward(x, h0=None) -> (output, h_n). Parameters weight_ih_l{k} (H, H_in), weight_hh_l{k} (H, H),
    bias_ih_l{k}, bias_hh_l{k} (H,), all initialised U(-1/√H, 1/√H).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, dtype=None, device="cpu"):
        nonlinearity = _check_nonlinearity("RNN", nonlinearity)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, dtype, device)
        self.nonlinearity = nonlinearity

    def step(self, x_part, state, w_hh, b_hh):
        return (rnn_step(x_part, state[0], w_hh, b_hh, self.nonlinearity),)

    def extra_repr(self):
        return super().extra_repr() + (f", nonlinearity={self.nonlinearity!r}" if self.nonlinearity != "tanh" else "")


class LSTM(_RecurrentLayer):
    """Long short-term memory, per layer and time step (gates i, f, g, o; see `lstm_step`):
    c_t = f ⊙ c_{t-1} + i ⊙ g,   h_t = o ⊙ tanh(c_t).

    LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0);
    forward(x, (h0, c0)=None) -> (output, (h_n, c_n)). Parameters weight_ih_l{k} (4H, H_in),
    weight_hh_l{k} (4H, H), bias_ih_l{k}, bias_hh_l{k} (4H,), all initialised U(-1/√H, 1/√H).
    """

    num_gates, state_size = 4, 2

    def step(self, x_part, state, w_hh, b_hh):
        return lstm_step(x_part, *state, w_hh, b_hh)


class GRU(_RecurrentLayer):
    """Gated recurrent unit, per layer and time step (gates r, z, n; see `gru_step`):
    h_t = (1 - z) ⊙ n + z ⊙ h_{t-1},   n = tanh(W_in x_t + b_in + r ⊙ (W_hn h_{t-1} + b_hn)).

    GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0);
    forward(x, h0=None) -> (output, h_n). Parameters weight_ih_l{k} (3H, H_in), weight_hh_l{k} (3H, H),
    bias_ih_l{k}, bias_hh_l{k} (3H,), all initialised U(-1/√H, 1/√H).
    """

    num_gates = 3

    def step(self, x_part, state, w_hh, b_hh):
        return (gru_step(x_part, state[0], w_hh, b_hh),)


# -- the cells: one time step ----------------------------------------------------------------------------
class _RecurrentCell(Module):
    """What RNNCell, LSTMCell and GRUCell share: weight_ih (G·H, in), weight_hh (G·H, H), bias_ih, bias_hh (G·H,)."""

    num_gates = 1
    state_size = 1

    def __init__(self, input_size, hidden_size, bias=True, dtype=None, device="cpu"):
        super().__init__()
        name = type(self).__name__
        self.input_size = size(name, "input_size", input_size)
        self.hidden_size = size(name, "hidden_size", hidden_size)
        self.bias = bool(bias)
        rows = self.num_gates * self.hidden_size
        self.weight_ih = empty_parameter((rows, self.input_size), dtype, device)
        self.weight_hh = empty_parameter((rows, self.hidden_size), dtype, device)
        if self.bias:
            self.bias_ih = empty_parameter((rows,), dtype, device)
            self.bias_hh = empty_parameter((rows,), dtype, device)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        reset_uniform_(self, self.hidden_size)

    def step(self, x_part, state):
        raise NotImplementedError

    def forward(self, x, h=None):
        """x (N, input_size) or (input_size,) -> the next state: h (N, H) (LSTMCell: (h, c)); h=None means zeros."""
        batched = self._check_input(x)
        if not batched:
            x = x.expand_dims(0)
        state = self._state(h, x, batched)
        state = self.step(F.linear(x, self.weight_ih, self.bias_ih), state)
        if not batched:
            state = tuple(s.squeeze(0) for s in state)
        return state[0] if self.state_size == 1 else state

    def _check_input(self, x):
        if not isinstance(x, Tensor):
            raise ArgumentTypeError(f"{self!r}: the input must be a minidl Tensor, got {type(x).__name__}")
        expected = (f"{self!r} expects input of shape (N, {self.input_size}) (or ({self.input_size},) unbatched), "
                    f"got {x.shape}")
        if x.ndim not in (1, 2):
            raise ShapeError(f"{expected} ({x.ndim} dimensions)")
        if x.shape[-1] != self.input_size:
            raise ShapeError(f"{expected}: {x.shape[-1]} features instead of input_size={self.input_size}")
        if x.dtype.kind != "f":
            raise DTypeError(f"{self!r} expects a floating-point input, got {x.dtype}")
        return x.ndim == 2

    def _state(self, h, x, batched):
        N = x.shape[0]
        names = ("h",) if self.state_size == 1 else ("h", "c")
        if h is None:
            return tuple(zeros((N, self.hidden_size), dtype=x.dtype, device=x.device) for _ in names)
        if self.state_size == 1:
            h = (h,)
        elif not isinstance(h, (tuple, list)) or len(h) != 2:
            raise ArgumentTypeError(f"{self!r}: the state must be a tuple (h, c) of two tensors, got "
                                    f"{type(h).__name__}")
        expected = (N, self.hidden_size) if batched else (self.hidden_size,)
        state = []
        for name, s in zip(names, h):
            if not isinstance(s, Tensor):
                raise ArgumentTypeError(f"{self!r}: {name} must be a minidl Tensor, got {type(s).__name__}")
            if s.shape != expected:
                given = x.shape if batched else x.shape[1:]
                raise ShapeError(f"{self!r}: {name} must have shape {expected} for input of shape {given}, "
                                 f"got {s.shape}")
            state.append(s if batched else s.expand_dims(0))
        return tuple(state)

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_RecurrentCell):
    """h' = act(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)  (act tanh or relu): one step of `RNN`.
    weight_ih (H, in), weight_hh (H, H), bias_ih, bias_hh (H,); U(-1/√H, 1/√H)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", dtype=None, device="cpu"):
        nonlinearity = _check_nonlinearity("RNNCell", nonlinearity)
        super().__init__(input_size, hidden_size, bias, dtype, device)
        self.nonlinearity = nonlinearity

    def step(self, x_part, state):
        return (rnn_step(x_part, state[0], self.weight_hh, self.bias_hh, self.nonlinearity),)

    def extra_repr(self):
        return super().extra_repr() + (f", nonlinearity={self.nonlinearity!r}" if self.nonlinearity != "tanh" else "")


class LSTMCell(_RecurrentCell):
    """(h', c') from x and (h, c): one step of `LSTM` (see `lstm_step` for the gates i, f, g, o).
    weight_ih (4H, in), weight_hh (4H, H), bias_ih, bias_hh (4H,); U(-1/√H, 1/√H)."""

    num_gates, state_size = 4, 2

    def step(self, x_part, state):
        return lstm_step(x_part, *state, self.weight_hh, self.bias_hh)


class GRUCell(_RecurrentCell):
    """h' from x and h: one step of `GRU` (see `gru_step` for the gates r, z, n).
    weight_ih (3H, in), weight_hh (3H, H), bias_ih, bias_hh (3H,); U(-1/√H, 1/√H)."""

    num_gates = 3

    def step(self, x_part, state):
        return (gru_step(x_part, state[0], self.weight_hh, self.bias_hh),)


# -- helpers ---------------------------------------------------------------------------------------------
def reset_uniform_(module, hidden_size):
    """Every parameter ~ U(-1/√hidden_size, 1/√hidden_size): PyTorch's initialisation of its recurrent layers."""
    bound = 1.0 / math.sqrt(hidden_size)
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


def _check_nonlinearity(owner, nonlinearity):
    if nonlinearity not in _ACTIVATIONS:
        raise ArgumentError(f"{owner}: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    return nonlinearity
