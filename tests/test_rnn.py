"""nn.RNN, nn.LSTM, nn.GRU and their cells against PyTorch's, in float64 with the same weights.

Every comparison backpropagates random upstream gradients through every output (output, h_n and, for
the LSTM, c_n) and compares the outputs, the final states and the gradients of the input, of the
initial states and of every parameter. Then: dropout between layers (train vs eval), float64 gradcheck
on the `device` fixture, errors, and a 150-step LSTM whose graph is freed after backward.
"""

import gc
import math
import sys

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
from minidl.autograd import topological_order
from minidl.nn.rnn import run_layers
from minidl.ops.dropout import Dropout

RTOL, ATOL = 1e-9, 1e-11
KINDS = ["RNN", "LSTM", "GRU"]


def twins(torch, kind, *args, **kwargs):
    """(ours, theirs): the same layer in minidl and PyTorch, float64, with PyTorch's weights loaded into ours."""
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(*args, **kwargs).double()
    ours = getattr(nn, kind)(*args, **kwargs).astype(mdl.float64)
    missing, unexpected = ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert not missing and not unexpected
    return ours, theirs


def flat(result):
    """(output, h_n) or (output, (h_n, c_n)) -> [output, h_n(, c_n)]; a cell's h or (h, c) -> [h(, c)]."""
    if isinstance(result, tuple):
        return [t for part in result for t in (part if isinstance(part, tuple) else (part,))]
    return [result]


def run_and_compare(torch, ours, theirs, x, state=None, device="cpu", rng=None):
    """Forward both on x (and the initial state: None, an array, or a tuple of arrays), backward the same
    random upstream gradients on every output; compare outputs and all gradients."""
    rng = rng or np.random.default_rng(1)
    ours.to(device)
    xm, xt = mdl.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
    states = [] if state is None else list(state) if isinstance(state, tuple) else [state]
    sm = [mdl.tensor(s, device=device, requires_grad=True) for s in states]
    st = [torch.tensor(s, requires_grad=True) for s in states]
    pack = (lambda s: None if not s else tuple(s) if isinstance(state, tuple) else s[0])
    outs_m, outs_t = flat(ours(xm, pack(sm))), flat(theirs(xt, pack(st)))
    assert len(outs_m) == len(outs_t)
    loss_m = loss_t = 0
    for k, (om, ot) in enumerate(zip(outs_m, outs_t)):
        assert om.shape == tuple(ot.shape), f"output {k}: shape {om.shape}, PyTorch's {tuple(ot.shape)}"
        np.testing.assert_allclose(om.numpy(), ot.detach().numpy(), rtol=RTOL, atol=ATOL, err_msg=f"output {k}")
        g = rng.standard_normal(om.shape)
        loss_m = loss_m + (om * mdl.tensor(g, device=device)).sum()
        loss_t = loss_t + (ot * torch.tensor(g)).sum()
    loss_m.backward()
    loss_t.backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=RTOL, atol=ATOL, err_msg="dL/dx")
    for k, (a, b) in enumerate(zip(sm, st)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=RTOL, atol=ATOL, err_msg=f"dL/dstate{k}")
    theirs_params = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(theirs_params)
    for name, p in ours.named_parameters():
        assert p.grad is not None, name
        np.testing.assert_allclose(p.grad.numpy(), theirs_params[name].grad.numpy(), rtol=RTOL, atol=ATOL,
                                   err_msg=f"dL/d{name}")


def initial_state(kind, shape, rng):
    if kind == "LSTM":
        return rng.standard_normal(shape), rng.standard_normal(shape)
    return rng.standard_normal(shape)


# ---------------------------------------------------------------------------------------------------
# layers against PyTorch
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("with_h0", [False, True])
def test_layer_matches_torch(torch, kind, num_layers, batch_first, with_h0):
    L, N, H_in, H = 5, 3, 4, 6
    rng = np.random.default_rng(0)
    ours, theirs = twins(torch, kind, H_in, H, num_layers=num_layers, batch_first=batch_first)
    x = rng.standard_normal((N, L, H_in) if batch_first else (L, N, H_in))
    state = initial_state(kind, (num_layers, N, H), rng) if with_h0 else None
    run_and_compare(torch, ours, theirs, x, state)


@pytest.mark.parametrize("kind", KINDS)
def test_layer_without_bias_matches_torch(torch, kind):
    rng = np.random.default_rng(2)
    ours, theirs = twins(torch, kind, 3, 5, num_layers=2, bias=False)
    assert not any("bias" in name for name, _ in ours.named_parameters())
    run_and_compare(torch, ours, theirs, rng.standard_normal((4, 2, 3)), initial_state(kind, (2, 2, 5), rng))


@pytest.mark.parametrize("num_layers", [1, 2])
def test_relu_rnn_matches_torch(torch, num_layers):
    rng = np.random.default_rng(3)
    ours, theirs = twins(torch, "RNN", 3, 5, num_layers=num_layers, nonlinearity="relu", batch_first=True)
    run_and_compare(torch, ours, theirs, rng.standard_normal((2, 6, 3)), rng.standard_normal((num_layers, 2, 5)))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("with_h0", [False, True])
def test_unbatched_sequence_matches_torch(torch, kind, with_h0):
    """x (L, H_in) -> output (L, H), h_n (num_layers, H), as PyTorch (batch_first does not apply)."""
    rng = np.random.default_rng(4)
    ours, theirs = twins(torch, kind, 3, 4, num_layers=2, batch_first=True)
    state = initial_state(kind, (2, 4), rng) if with_h0 else None
    run_and_compare(torch, ours, theirs, rng.standard_normal((5, 3)), state)


@pytest.mark.parametrize("kind", KINDS)
def test_layer_matches_torch_on_device(torch, device, kind):
    rng = np.random.default_rng(5)
    ours, theirs = twins(torch, kind, 3, 4, num_layers=2)
    run_and_compare(torch, ours, theirs, rng.standard_normal((4, 2, 3)), initial_state(kind, (2, 2, 4), rng),
                    device=device)


def test_a_sequence_of_one_step_and_a_long_one(torch):
    rng = np.random.default_rng(6)
    for L in (1, 37):  # 37: time_steps halves unevenly
        ours, theirs = twins(torch, "LSTM", 2, 3)
        run_and_compare(torch, ours, theirs, rng.standard_normal((L, 2, 2)))


# ---------------------------------------------------------------------------------------------------
# cells against PyTorch
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_h", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_cell_matches_torch(torch, kind, batched, with_h, bias):
    rng = np.random.default_rng(7)
    ours, theirs = twins(torch, kind, 4, 5, bias=bias)
    batch = (3,) if batched else ()
    state = initial_state(kind[:-4], batch + (5,), rng) if with_h else None
    run_and_compare(torch, ours, theirs, rng.standard_normal(batch + (4,)), state)


def test_relu_rnn_cell_matches_torch(torch, device):
    rng = np.random.default_rng(8)
    ours, theirs = twins(torch, "RNNCell", 4, 5, nonlinearity="relu")
    run_and_compare(torch, ours, theirs, rng.standard_normal((3, 4)), rng.standard_normal((3, 5)), device=device)


@pytest.mark.parametrize("kind", KINDS)
def test_a_cell_run_by_hand_equals_the_layer(kind):
    """The layer is the cell unrolled: a loop of the cell with the layer's weights gives the same output."""
    mdl.manual_seed(0)
    layer = getattr(nn, kind)(3, 4).astype(mdl.float64)
    cell = getattr(nn, kind + "Cell")(3, 4).astype(mdl.float64)
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})  # weight_ih_l0 -> weight_ih
    x = mdl.tensor(np.random.default_rng(9).standard_normal((6, 2, 3)))
    state, hs = None, []
    for t in range(6):
        state = cell(x[t], state)
        hs.append(state[0] if kind == "LSTM" else state)
    output, _ = layer(x)
    np.testing.assert_allclose(output.numpy(), mdl.stack(hs).numpy(), rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------------------------------------
# parameters: names, shapes, initialisation
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind, gates", [("RNN", 1), ("LSTM", 4), ("GRU", 3)])
def test_parameter_names_shapes_and_initialisation(torch, kind, gates):
    mdl.manual_seed(0)
    ours = getattr(nn, kind)(10, 64, num_layers=2)
    theirs = getattr(torch.nn, kind)(10, 64, num_layers=2)
    shapes = {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert {k: v.shape for k, v in ours.state_dict().items()} == shapes
    assert list(ours.state_dict()) == list(shapes)
    assert shapes["weight_ih_l0"] == (gates * 64, 10)
    bound = 1 / math.sqrt(64)
    values = np.concatenate([p.numpy().ravel() for p in ours.parameters()])
    assert values.dtype == np.float32
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.99 * bound
    assert abs(values.std() - bound / math.sqrt(3)) < 0.02 * bound  # U(-b, b) has std b/√3
    cell = getattr(nn, kind + "Cell")(10, 64)
    tcell = getattr(torch.nn, kind + "Cell")(10, 64)
    assert {k: v.shape for k, v in cell.state_dict().items()} == {k: tuple(v.shape) for k, v in
                                                                   tcell.state_dict().items()}
    assert np.abs(np.concatenate([p.numpy().ravel() for p in cell.parameters()])).max() <= bound


@pytest.mark.parametrize("kind", KINDS)
def test_float32_stays_float32(device, kind):
    """Outputs, states and every gradient of a float32 layer are float32 (no float64 creep from constants)."""
    mdl.manual_seed(0)
    layer = getattr(nn, kind)(3, 4, num_layers=2, dropout=0.5, device=device)
    x = mdl.randn(5, 2, 3, device=device, requires_grad=True)
    outputs = flat(layer(x))
    sum(o.sum() for o in outputs).backward()
    assert all(o.dtype == np.float32 for o in outputs)
    assert x.grad.dtype == np.float32 and all(p.grad.dtype == np.float32 for p in layer.parameters())


def test_repr_names_the_configuration():
    assert repr(nn.LSTM(65, 128, num_layers=2, batch_first=True)) == "LSTM(65, 128, num_layers=2, batch_first=True)"
    assert repr(nn.RNN(3, 4, nonlinearity="relu", bias=False)) == "RNN(3, 4, bias=False, nonlinearity='relu')"
    assert repr(nn.GRUCell(3, 4)) == "GRUCell(3, 4)"


# ---------------------------------------------------------------------------------------------------
# dropout between layers
# ---------------------------------------------------------------------------------------------------
def dropout_nodes(tensor):
    return sum(isinstance(fn, Dropout) for fn in topological_order(tensor.grad_fn))


@pytest.mark.parametrize("kind", KINDS)
def test_dropout_between_layers_in_train_mode_only(torch, kind):
    """num_layers=3, dropout=0.5: in training, one mask per gap between layers (2, none after the last)
    and an output that differs from evaluation; in evaluation, no mask and PyTorch's result."""
    rng = np.random.default_rng(10)
    ours, theirs = twins(torch, kind, 3, 4, num_layers=3, dropout=0.5)
    x = rng.standard_normal((5, 2, 3))
    mdl.manual_seed(0)
    out_train, _ = ours(mdl.tensor(x, requires_grad=True))
    assert dropout_nodes(out_train) == 2
    ours.eval(), theirs.eval()
    out_eval, _ = ours(mdl.tensor(x, requires_grad=True))
    assert dropout_nodes(out_eval) == 0
    assert not np.allclose(out_train.numpy(), out_eval.numpy())
    run_and_compare(torch, ours, theirs, x, initial_state(kind, (3, 2, 4), rng))


@pytest.mark.parametrize("kind", KINDS)
def test_dropout_of_one_in_training_equals_torchs(torch, kind):
    """dropout=1 zeroes every input of layers 2 and 3: deterministic, so train mode compares with PyTorch's,
    gradients included (layer 1's parameters then learn only through h_n)."""
    rng = np.random.default_rng(11)
    ours, theirs = twins(torch, kind, 3, 4, num_layers=3, dropout=1.0)
    run_and_compare(torch, ours, theirs, rng.standard_normal((5, 2, 3)), initial_state(kind, (3, 2, 4), rng))


def test_dropout_with_one_layer_warns_as_pytorch():
    with pytest.warns(UserWarning, match="between layers"):
        nn.LSTM(3, 4, dropout=0.2)


# ---------------------------------------------------------------------------------------------------
# gradcheck (float64, finite differences)
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_gradcheck_small_layers(device, kind):
    """Through the module (w.r.t. x and the initial state) and through run_layers, the function the module
    runs (w.r.t. every weight): two layers, three steps."""
    mdl.manual_seed(0)
    layer = getattr(nn, kind)(2, 3, num_layers=2, dtype=mdl.float64, device=device)
    rng = np.random.default_rng(12)
    x = mdl.tensor(rng.standard_normal((3, 2, 2)), device=device, requires_grad=True)
    n_states = 2 if kind == "LSTM" else 1
    h0 = [mdl.tensor(rng.standard_normal((2, 2, 3)), device=device, requires_grad=True) for _ in range(n_states)]

    def through_module(x, *state):
        return mdl.concatenate([t.reshape(-1) for t in flat(layer(x, tuple(state) if kind == "LSTM" else state[0]))])

    assert mdl.gradcheck(through_module, (x, *h0))

    weights = [w for w in layer.parameters()]

    def through_weights(x, *ws):
        per_layer = [tuple(ws[4 * k:4 * k + 4]) for k in range(2)]
        states = [tuple(s[k] for s in h0) for k in range(2)]
        output, finals = run_layers(x, states, per_layer, layer.step)
        return mdl.concatenate([output.reshape(-1)] + [s.reshape(-1) for state in finals for s in state])

    assert mdl.gradcheck(through_weights, (x, *weights))


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_gradcheck_cells(device, kind):
    mdl.manual_seed(0)
    cell = getattr(nn, kind)(3, 2, dtype=mdl.float64, device=device)
    rng = np.random.default_rng(13)
    x = mdl.tensor(rng.standard_normal((2, 3)), device=device, requires_grad=True)
    state = [mdl.tensor(rng.standard_normal((2, 2)), device=device, requires_grad=True)
             for _ in range(2 if kind == "LSTMCell" else 1)]

    def fn(x, *s):
        return mdl.concatenate([t.reshape(-1) for t in flat(cell(x, tuple(s) if len(s) == 2 else s[0]))])

    assert mdl.gradcheck(fn, (x, *state))


# ---------------------------------------------------------------------------------------------------
# long sequences: no recursion, no leaks
# ---------------------------------------------------------------------------------------------------
def live_tensors():
    gc.collect()
    return sum(1 for obj in gc.get_objects() if issubclass(type(obj), mdl.Tensor))


def test_lstm_over_300_steps_frees_its_graph_and_needs_no_recursion():
    mdl.manual_seed(0)
    lstm = nn.LSTM(4, 8, num_layers=2)  # 300 steps: a graph deeper than the recursion limit with one node a step
    x_np = np.random.default_rng(14).standard_normal((300, 3, 4)).astype(np.float32)

    def step():
        lstm.zero_grad()
        output, (h, c) = lstm(mdl.tensor(x_np, requires_grad=True))
        loss = (output * output).mean() + h.sum() + c.sum()
        depth = graph_depth(loss)
        loss.backward()
        return depth

    step()  # the parameters' gradients exist from here on
    baseline = live_tensors()
    depth = step()
    assert live_tensors() == baseline, f"{live_tensors() - baseline} more live Tensors after a second step"
    # a recursive backward (or topological sort) would need one Python frame per node on the longest path
    assert depth > sys.getrecursionlimit(), f"graph depth {depth}: the test would not catch a recursive backward"
    assert all(np.isfinite(p.grad.numpy()).all() for p in lstm.parameters())


def graph_depth(tensor):
    """The number of nodes on the longest path from `tensor` to a leaf (iterative)."""
    depth = {}
    for fn in reversed(topological_order(tensor.grad_fn)):  # inputs' nodes first
        depth[fn] = 1 + max((depth[x.grad_fn] for x in fn.inputs if x.grad_fn is not None), default=0)
    return depth[tensor.grad_fn]


# ---------------------------------------------------------------------------------------------------
# errors that name the layer and both shapes
# ---------------------------------------------------------------------------------------------------
def test_wrong_input_features():
    with pytest.raises(mdl.ShapeError, match=r"LSTM\(5, 7\) expects input of shape \(L, N, 5\).*got \(4, 2, 6\)"
                                             r".*6 features"):
        nn.LSTM(5, 7)(mdl.zeros(4, 2, 6))
    with pytest.raises(mdl.ShapeError, match=r"\(N, L, 5\).*got \(2, 4, 3\)"):
        nn.GRU(5, 7, batch_first=True)(mdl.zeros(2, 4, 3))


def test_wrong_number_of_dimensions():
    with pytest.raises(mdl.ShapeError, match=r"RNN\(5, 7\) expects.*got \(1, 4, 2, 5\) \(4 dimensions\)"):
        nn.RNN(5, 7)(mdl.zeros(1, 4, 2, 5))
    with pytest.raises(mdl.ShapeError, match=r"GRUCell\(5, 7\) expects input of shape \(N, 5\).*got \(3, 2, 5\)"):
        nn.GRUCell(5, 7)(mdl.zeros(3, 2, 5))


def test_wrong_initial_state_shape():
    with pytest.raises(mdl.ShapeError, match=r"GRU\(5, 7, num_layers=2\): h0 must have shape \(2, 3, 7\).*"
                                             r"input of shape \(4, 3, 5\), got \(1, 3, 7\)"):
        nn.GRU(5, 7, num_layers=2)(mdl.zeros(4, 3, 5), mdl.zeros(1, 3, 7))
    with pytest.raises(mdl.ShapeError, match=r"c0 must have shape \(1, 3, 7\).*got \(1, 3, 6\)"):
        nn.LSTM(5, 7)(mdl.zeros(4, 3, 5), (mdl.zeros(1, 3, 7), mdl.zeros(1, 3, 6)))
    with pytest.raises(mdl.ShapeError, match=r"h0 must have shape \(1, 7\).*input of shape \(4, 5\)"):
        nn.RNN(5, 7)(mdl.zeros(4, 5), mdl.zeros(1, 1, 7))  # unbatched input, batched h0
    with pytest.raises(mdl.ShapeError, match=r"LSTMCell\(5, 7\): c must have shape \(3, 7\).*got \(7,\)"):
        nn.LSTMCell(5, 7)(mdl.zeros(3, 5), (mdl.zeros(3, 7), mdl.zeros(7)))


def test_wrong_kinds_of_arguments():
    with pytest.raises(mdl.ArgumentTypeError, match=r"LSTM\(5, 7\): the initial state must be a tuple \(h0, c0\)"):
        nn.LSTM(5, 7)(mdl.zeros(4, 3, 5), mdl.zeros(1, 3, 7))
    with pytest.raises(mdl.ArgumentTypeError, match="must be a minidl Tensor, got ndarray"):
        nn.RNN(5, 7)(np.zeros((4, 3, 5)))
    with pytest.raises(mdl.DTypeError, match="floating-point input, got int64.*Embedding"):
        nn.LSTM(5, 7)(mdl.tensor(np.zeros((4, 3, 5), dtype=np.int64)))
    with pytest.raises(mdl.ShapeError, match="at least one time step"):
        nn.LSTM(5, 7)(mdl.zeros(0, 3, 5))
    with pytest.raises(mdl.ArgumentError, match="RNN: nonlinearity must be 'tanh' or 'relu', got 'sigmoid'"):
        nn.RNN(5, 7, nonlinearity="sigmoid")
    with pytest.raises(mdl.ArgumentError, match=r"LSTM: dropout .* \[0, 1\], got 1.5"):
        nn.LSTM(5, 7, num_layers=2, dropout=1.5)
    with pytest.raises(mdl.ArgumentError, match="GRU: num_layers must be an int >= 1, got 0"):
        nn.GRU(5, 7, num_layers=0)


def test_summary_of_a_model_with_an_lstm_counts_pytorchs_parameters(torch):
    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(3, 4, num_layers=2, batch_first=True)
            self.fc = nn.Linear(4, 5)

        def forward(self, x):
            output, _ = self.lstm(x)
            return self.fc(output)

    text = Tagger().summary((6, 3))
    expected = sum(p.numel() for p in torch.nn.LSTM(3, 4, num_layers=2).parameters())
    assert f"lstm (LSTM)   (None, 6, 4)   {expected:>8,}".replace(" ", "") in text.replace(" ", "")
