"""Each optimizer's fast sibling (minidl/optim/fast.py) against its readable reference `_update`, and the
references against PyTorch.

The reference is the optimizer's docstring formulas as written; the fast sibling computes the same numbers
with BLAS passes and folded constants. Both train the shared 6-16-4 MLP of tests/test_optim.py for 50
float64 steps: the sibling must equal the reference to 1e-10 relative, for every option, and the reference
must equal PyTorch to test_optim's tolerance (1e-9), as the fast path does there.
"""

import numpy as np
import pytest

import minidl as mdl
from minidl import optim
from minidl.optim import fast
from minidl.nn.parameter import Parameter
from test_optim import CASES, assert_params_close, case_id, make_problem, minidl_loss, train_minidl, train_torch

# Beyond test_optim's CASES: every option together, and the combinations the siblings branch on.
EXTRA_CASES = [
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.05)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True, betas=(0.3, 0.9))),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True, betas=(0.3, 0.9), eps=1e-6)),
    ("Adagrad", dict(lr=0.05, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1, eps=1e-6)),
    ("RMSprop", dict(lr=0.001, alpha=0.5, centered=True, momentum=0.9, weight_decay=0.1, eps=1e-6)),
]
ALL_CASES = CASES + EXTRA_CASES


@pytest.fixture
def reference_only():
    """Fast paths off (the one switch): every optimizer steps with its reference `_update`."""
    with mdl.fast_paths(False):
        yield


def build_for(case):
    name, kwargs = case
    return lambda module, params: getattr(module, name)(params, **kwargs)


def train_both_ways(case, device="cpu", dtype=np.float64, steps=50):
    weights, batches = make_problem(steps=steps)
    fast_params, fast_opt = train_minidl(build_for(case), weights, batches, device, dtype=dtype)
    assert fast_opt._fast_sibling() is not None
    with mdl.fast_paths(False):
        ref_params, ref_opt = train_minidl(build_for(case), weights, batches, device, dtype=dtype)
        assert ref_opt._fast_sibling() is None
    return weights, (fast_params, fast_opt), (ref_params, ref_opt)


@pytest.mark.parametrize("case", ALL_CASES, ids=[case_id(c) for c in ALL_CASES])
def test_fast_sibling_equals_reference_50_steps(device, case):
    weights, (fast_params, fast_opt), (ref_params, ref_opt) = train_both_ways(case, device)
    for i, (p, q) in enumerate(zip(fast_params, ref_params)):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-10, atol=0, err_msg=f"parameter {i}")
    for i, (p, q) in enumerate(zip(fast_params, ref_params)):  # the state too: resuming either way agrees
        fast_state, ref_state = fast_opt.state[p], ref_opt.state[q]
        assert sorted(fast_state) == sorted(ref_state)
        host = mdl.get_backend(device).to_host
        for key, value in fast_state.items():
            if key == "step":
                assert value == ref_state[key]
            else:
                np.testing.assert_allclose(host(value), host(ref_state[key]), rtol=1e-10, err_msg=f"{key} of {i}")
    moved = max(np.abs(p.numpy() - w).max() for p, w in zip(ref_params, weights))
    assert moved > 1e-3, "the parameters hardly moved: the comparison would prove little"


@pytest.mark.parametrize("case", ALL_CASES, ids=[case_id(c) for c in ALL_CASES])
def test_reference_matches_pytorch_50_steps(torch, reference_only, case):
    weights, batches = make_problem()
    ours, opt = train_minidl(build_for(case), weights, batches)
    assert opt._fast_sibling() is None
    theirs, _ = train_torch(torch, build_for(case), weights, batches)
    assert_params_close(ours, theirs)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop"])
def test_float32_reference_stays_float32_and_matches_fast(name):
    case = next(c for c in ALL_CASES[::-1] if c[0] == name)
    _, (fast_params, _), (ref_params, _) = train_both_ways(case, dtype=np.float32, steps=10)
    for p, q in zip(fast_params, ref_params):
        assert q.dtype == np.float32
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("option", [("Adam", "amsgrad"), ("RMSprop", "centered"), ("RMSprop", "momentum")])
def test_option_switched_on_midway_same_both_ways(option):
    """amsgrad, centered or momentum turned on after 5 steps: both create the missing state alike."""
    name, key = option
    weights, batches = make_problem(steps=12)
    results = []
    for fast_paths in (True, False):
        params = [Parameter(mdl.tensor(w, dtype=np.float64)) for w in weights]
        opt = getattr(optim, name)(params, lr=0.01)
        for step, batch in enumerate(batches):
            if step == 5:
                opt.param_groups[0][key] = 0.9 if key == "momentum" else True
            opt.zero_grad()
            minidl_loss(params, batch, "cpu").backward()
            with mdl.fast_paths(fast_paths):
                opt.step()
        results.append([p.numpy() for p in params])
    for p, q in zip(*results):
        np.testing.assert_allclose(p, q, rtol=1e-10)


def test_only_the_classes_own_sibling_is_chosen():
    """A user's subclass that rewrites `_update` runs it, even with fast paths on."""
    calls = []

    class MySGD(optim.SGD):
        def _update(self, p, grad, state, group):
            calls.append(p.shape)
            p.data -= float(group["lr"]) * grad

    p = Parameter(mdl.tensor([1.0, 2.0]))
    opt = MySGD([p], lr=0.5)
    p.grad = mdl.tensor([1.0, 1.0])
    opt.step()
    assert calls == [(2,)] and p.numpy().tolist() == [0.5, 1.5]
    assert optim.SGD([p], lr=0.1)._fast_sibling() is fast.blas_sgd
    assert optim.AdamW([p])._fast_sibling() is fast.blas_adamw
    mdl.use_fast_paths(False)  # the one public switch turns the optimizers' fast siblings off too
    try:
        assert optim.SGD([p], lr=0.1)._fast_sibling() is None
    finally:
        mdl.use_fast_paths(True)


def test_reference_never_writes_the_gradient(reference_only):
    for name, kwargs in ALL_CASES:
        p = Parameter(mdl.tensor(np.linspace(-1, 1, 6).reshape(2, 3)))
        opt = getattr(optim, name)([p], **kwargs)
        for _ in range(3):
            grad = np.linspace(0.5, -0.5, 6).reshape(2, 3)
            p.grad = mdl.tensor(grad)
            opt.step()
            np.testing.assert_array_equal(p.grad.numpy(), grad, err_msg=name)


def test_reference_updates_a_0d_parameter_in_place(reference_only):
    for name, kwargs in ALL_CASES:
        p = Parameter(mdl.tensor(1.5, dtype=np.float64))
        data = p.data
        opt = getattr(optim, name)([p], **kwargs)
        for _ in range(3):
            p.grad = mdl.tensor(0.25, dtype=np.float64)
            opt.step()
        assert p.data is data and p.data.shape == () and float(p.data) != 1.5, name
        assert all(np.ndim(v) == 0 for v in opt.state[p].values()), name
