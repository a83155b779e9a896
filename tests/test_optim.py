"""Optimizers against PyTorch, number for number, plus param groups, freezing, state dicts and checks.

Every parity test trains the same small MLP (6-16-4, ReLU) from the same float64 weights on the same
50 batches in minidl and in PyTorch, and compares the parameters to 1e-9 relative. Those that run on
the `device` fixture also run on the strict stand-in, which fails on any host/device leak.
"""

import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F
from minidl import optim
from minidl.nn.parameter import Parameter

IN, HIDDEN, OUT, BATCH, STEPS = 6, 16, 4, 12, 50
RTOL = 1e-9


# -- the shared problem --------------------------------------------------------------------------------------
def make_problem(seed=0, steps=STEPS):
    """Float64 weights [W1, b1, W2, b2] and `steps` batches (x, y, labels)."""
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0, 0.5, (HIDDEN, IN)), rng.normal(0, 0.1, HIDDEN),
               rng.normal(0, 0.5, (OUT, HIDDEN)), rng.normal(0, 0.1, OUT)]
    batches = [(rng.normal(size=(BATCH, IN)), rng.normal(size=(BATCH, OUT)), rng.integers(0, OUT, BATCH))
               for _ in range(steps)]
    return weights, batches


def minidl_params(weights, device="cpu", dtype=np.float64):
    return [Parameter(mdl.tensor(w, device=device, dtype=dtype)) for w in weights]


def minidl_loss(params, batch, device, loss="mse", dtype=np.float64):
    w1, b1, w2, b2 = params
    x, y, labels = batch
    out = F.linear(F.relu(F.linear(mdl.tensor(x, device=device, dtype=dtype), w1, b1)), w2, b2)
    if loss == "mse":
        return ((out - mdl.tensor(y, device=device, dtype=dtype)) ** 2).mean()
    logp = F.log_softmax(out, axis=-1)  # cross-entropy as log_softmax + indexing
    return -logp[np.arange(len(labels)), labels].mean()


def torch_params(torch, weights, dtype=None):
    dtype = dtype or torch.float64
    return [torch.nn.Parameter(torch.tensor(w, dtype=dtype)) for w in weights]


def torch_loss(torch, params, batch, loss="mse", dtype=None):
    dtype = dtype or torch.float64
    w1, b1, w2, b2 = params
    x, y, labels = batch
    tf = torch.nn.functional
    out = tf.linear(tf.relu(tf.linear(torch.tensor(x, dtype=dtype), w1, b1)), w2, b2)
    if loss == "mse":
        return ((out - torch.tensor(y, dtype=dtype)) ** 2).mean()
    return tf.cross_entropy(out, torch.tensor(labels))


def train_minidl(build, weights, batches, device="cpu", loss="mse", dtype=np.float64, params=None):
    params = params or minidl_params(weights, device, dtype)
    opt = build(optim, params)
    for batch in batches:
        opt.zero_grad()
        minidl_loss(params, batch, device, loss, dtype).backward()
        opt.step()
    return params, opt


def train_torch(torch, build, weights, batches, loss="mse", dtype=None):
    params = torch_params(torch, weights, dtype)
    opt = build(torch.optim, params)
    for batch in batches:
        opt.zero_grad()
        torch_loss(torch, params, batch, loss, dtype).backward()
        opt.step()
    return params, opt


def assert_params_close(ours, theirs, rtol=RTOL, atol=0.0):
    for i, (p, q) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"parameter {i} (shape {p.shape})")


# -- every optimizer and option against PyTorch --------------------------------------------------------------
CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.5, dampening=0.1, weight_decay=0.1)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.9), eps=1e-6)),  # beta1 < 0.5: PyTorch's other lerp branch
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.01, betas=(0.3, 0.9), weight_decay=0)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.05, lr_decay=0.01)),
    ("Adagrad", dict(lr=0.05, weight_decay=0.1, initial_accumulator_value=0.1)),
    ("Adagrad", dict(lr=0.05, eps=1e-6)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.001)),
    ("RMSprop", dict(lr=0.001, momentum=0.9)),
    ("RMSprop", dict(lr=0.001, centered=True)),
    ("RMSprop", dict(lr=0.001, centered=True, momentum=0.9, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.001, alpha=0.5)),  # 1 - alpha >= 0.5: the other lerp branch when centered
    ("RMSprop", dict(lr=0.001, alpha=0.5, centered=True)),
]


def case_id(case):
    name, kwargs = case
    return name + "(" + ",".join(f"{k}={v}" for k, v in kwargs.items()) + ")"


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_matches_pytorch_50_steps(torch, device, case):
    name, kwargs = case
    weights, batches = make_problem()

    def build(module, params):
        return getattr(module, name)(params, **kwargs)

    ours, _ = train_minidl(build, weights, batches, device)
    theirs, _ = train_torch(torch, build, weights, batches)
    assert_params_close(ours, theirs)
    moved = max(np.abs(p.numpy() - w).max() for p, w in zip(ours, weights))
    assert moved > 1e-3, "the parameters hardly moved: the comparison would prove little"


SGD_CASES = [case for case in CASES if case[0] == "SGD"]


@pytest.mark.parametrize("case", SGD_CASES, ids=[case_id(c) for c in SGD_CASES])
def test_sgd_without_scipy_blas_matches_pytorch(torch, monkeypatch, case):
    """SGD's CPU update goes through SciPy's axpy/scal when it can; without SciPy, NumPy does the same."""
    from minidl.backend import numpy_backend
    monkeypatch.setattr(numpy_backend, "_level1", False)  # as if `import scipy` had failed
    assert numpy_backend._level1_blas("axpy", np.ones(2), np.ones(2)) is None
    name, kwargs = case
    weights, batches = make_problem(steps=20)

    def build(module, params):
        return getattr(module, name)(params, **kwargs)

    ours, _ = train_minidl(build, weights, batches)
    theirs, _ = train_torch(torch, build, weights, batches)
    assert_params_close(ours, theirs)


@pytest.fixture
def torch_1thread(torch):
    """PyTorch on one thread: its multi-threaded log_softmax spins for ~40 ms a call on a busy 2-core box."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_matches_pytorch_with_cross_entropy(torch_1thread, name):
    torch = torch_1thread
    weights, batches = make_problem(seed=1)
    kwargs = dict(lr=0.1, momentum=0.9) if name == "SGD" else dict(lr=0.01)

    def build(module, params):
        return getattr(module, name)(params, **kwargs)

    ours, _ = train_minidl(build, weights, batches, loss="ce")
    theirs, _ = train_torch(torch, build, weights, batches, loss="ce")
    assert_params_close(ours, theirs)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop"])
def test_float32_stays_float32_and_tracks_pytorch(torch, device, name):
    """No float64 temporaries leak into float32 parameters or state (Python floats are weak scalars)."""
    weights, batches = make_problem(steps=20)
    kwargs = {"SGD": dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
              "Adam": dict(lr=0.01, weight_decay=0.1, amsgrad=True), "AdamW": dict(lr=0.01),
              "Adagrad": dict(lr=0.05, weight_decay=0.1), "RMSprop": dict(lr=0.001, momentum=0.9, centered=True)}[name]

    def build(module, params):
        return getattr(module, name)(params, **kwargs)

    ours, opt = train_minidl(build, weights, batches, device, dtype=np.float32)
    theirs, _ = train_torch(torch, build, weights, batches, dtype=torch.float32)
    for p in ours:
        assert p.dtype == np.float32
        for key, value in opt.state[p].items():
            if key != "step":
                assert value.dtype == np.float32, f"state {key!r} is {value.dtype}"
                assert type(value) is p.backend.array_type, f"state {key!r} left the device"
    assert_params_close(ours, theirs, rtol=2e-4, atol=1e-5)


def test_numpy_scalar_hyperparameters_keep_float32(device):
    """np.float64 hyper-parameters are strong types for NumPy 2: the update must not let them in."""
    weights, batches = make_problem(steps=3)
    for name, kwargs in CASES:
        kwargs = {k: (tuple(np.float64(b) for b in v) if k == "betas" else
                      v if isinstance(v, bool) else np.float64(v)) for k, v in kwargs.items()}
        params, opt = train_minidl(lambda module, ps: getattr(module, name)(ps, **kwargs), weights, batches,
                                   device, dtype=np.float32)
        for p in params:
            assert p.dtype == np.float32
            assert all(v.dtype == np.float32 for k, v in opt.state[p].items() if k != "step"), case_id((name, kwargs))


def test_gradient_arrays_are_never_written(device):
    """The optimizer computes into its own buffers: a gradient array it reads stays as it was."""
    weights, batches = make_problem(steps=3)
    for name, kwargs in CASES:
        params = minidl_params(weights, device)
        opt = getattr(optim, name)(params, **kwargs)
        for batch in batches:
            opt.zero_grad()
            minidl_loss(params, batch, device).backward()
            before = [p.grad.numpy() for p in params]
            opt.step()
            for p, g in zip(params, before):
                np.testing.assert_array_equal(p.grad.numpy(), g, err_msg=case_id((name, kwargs)))


def test_updates_are_in_place(device):
    weights, batches = make_problem(steps=2)
    for name, kwargs in CASES:
        params = minidl_params(weights, device)
        arrays = [p.data for p in params]
        train_minidl(lambda module, ps: getattr(module, name)(ps, **kwargs), weights, batches, device,
                     params=params)
        assert all(p.data is a for p, a in zip(params, arrays)), case_id((name, kwargs))


# -- param groups: the fine-tuning recipe --------------------------------------------------------------------
def test_param_groups_with_per_group_rates_match_pytorch(torch, device):
    weights, batches = make_problem()

    def build(module, ps):  # early layer: a 10x smaller rate and no momentum; head: the defaults
        return module.SGD([{"params": ps[:2], "lr": 0.005, "momentum": 0.0}, {"params": ps[2:]}],
                          lr=0.05, momentum=0.9, weight_decay=0.01)

    ours, opt = train_minidl(build, weights, batches, device)
    theirs, _ = train_torch(torch, build, weights, batches)
    assert_params_close(ours, theirs)
    assert [g["lr"] for g in opt.param_groups] == [0.005, 0.05]
    assert opt.param_groups[0]["weight_decay"] == 0.01  # missing keys come from the defaults
    assert "momentum_buffer" not in opt.state[ours[0]] and "momentum_buffer" in opt.state[ours[2]]


def test_add_param_group_midway_matches_pytorch(torch, device):
    """Train the head first, then unfreeze the first layer with a smaller rate (add_param_group)."""
    weights, batches = make_problem()
    ours, theirs = minidl_params(weights, device), torch_params(torch, weights)
    opt_m = optim.Adam(ours[2:], lr=0.01)
    opt_t = torch.optim.Adam(theirs[2:], lr=0.01)
    for step, batch in enumerate(batches):
        if step == 20:
            opt_m.add_param_group({"params": ours[:2], "lr": 0.001})
            opt_t.add_param_group({"params": theirs[:2], "lr": 0.001})
        for params, opt, loss in ((ours, opt_m, lambda: minidl_loss(ours, batch, device)),
                                  (theirs, opt_t, lambda: torch_loss(torch, theirs, batch))):
            opt.zero_grad()
            loss().backward()
            opt.step()
    assert_params_close(ours, theirs)
    assert opt_m.param_groups[1]["betas"] == (0.9, 0.999)


def test_add_param_group_rejects_bad_groups():
    weights, _ = make_problem(steps=0)
    params = minidl_params(weights)
    opt = optim.SGD(params[:2], lr=0.1)
    with pytest.raises(ValueError, match="more than one|one group only"):
        opt.add_param_group({"params": params[1:]})
    with pytest.raises(ValueError, match="'params'"):
        opt.add_param_group({"lr": 0.1})
    with pytest.raises(ValueError, match="twice"):
        opt.add_param_group({"params": [params[2], params[2]]})
    with pytest.raises(TypeError, match="list"):
        opt.add_param_group({"params": {params[2]}})
    with pytest.raises(TypeError, match="Tensors"):
        opt.add_param_group({"params": [weights[2]]})
    with pytest.raises(ValueError, match="non-leaf"):
        opt.add_param_group({"params": [params[2] * 2]})
    with pytest.raises(ValueError, match="lr must be a number >= 0, got -1.*param group 1"):
        opt.add_param_group({"params": params[2:], "lr": -1})
    assert len(opt.param_groups) == 1


# -- frozen layers and parameters without a gradient ---------------------------------------------------------
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop"])
def test_frozen_first_layer_keeps_its_exact_weights(device, name):
    weights, batches = make_problem()
    params = minidl_params(weights, device)
    for p in params[:2]:
        p.requires_grad = False
    kwargs = dict(lr=0.05, momentum=0.9, weight_decay=0.1) if name == "SGD" else dict(lr=0.01, weight_decay=0.1)
    _, opt = train_minidl(lambda module, ps: getattr(module, name)(ps, **kwargs), weights, batches, device,
                          params=params)
    for p, w in zip(params[:2], weights[:2]):
        np.testing.assert_array_equal(p.numpy(), w)  # bit for bit, weight decay included
        assert p not in opt.state
    for p, w in zip(params[2:], weights[2:]):
        assert np.abs(p.numpy() - w).max() > 1e-3


def test_fine_tuning_an_nn_model_matches_pytorch(torch, device):
    """The recipe on nn layers: freeze the first layer, a smaller rate for the middle, defaults for the head."""
    from minidl import nn

    weights, batches = make_problem()
    rng = np.random.default_rng(5)
    extra = [rng.normal(0, 0.3, (HIDDEN, HIDDEN)), rng.normal(0, 0.1, HIDDEN)]
    layer_weights = [weights[:2], extra, weights[2:]]
    model = nn.Sequential(nn.Linear(IN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(),
                          nn.Linear(HIDDEN, OUT)).double().to(device)
    tmodel = torch.nn.Sequential(torch.nn.Linear(IN, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, HIDDEN),
                                 torch.nn.ReLU(), torch.nn.Linear(HIDDEN, OUT)).double()
    for i, (w, b) in zip((0, 2, 4), layer_weights):
        model[i].weight.data[...] = mdl.tensor(w, device=device, dtype=mdl.float64).data
        model[i].bias.data[...] = mdl.tensor(b, device=device, dtype=mdl.float64).data
        with torch.no_grad():
            tmodel[i].weight.copy_(torch.tensor(w))
            tmodel[i].bias.copy_(torch.tensor(b))
    for net in (model, tmodel):
        for p in net[0].parameters():
            p.requires_grad = False
    opt = optim.SGD([{"params": model[2].parameters(), "lr": 0.005}, {"params": model[4].parameters()}],
                    lr=0.05, momentum=0.9)
    topt = torch.optim.SGD([{"params": tmodel[2].parameters(), "lr": 0.005}, {"params": tmodel[4].parameters()}],
                           lr=0.05, momentum=0.9)
    for x, y, _ in batches:
        opt.zero_grad()
        ((model(mdl.tensor(x, device=device, dtype=mdl.float64)) - mdl.tensor(y, device=device)) ** 2).mean().backward()
        opt.step()
        topt.zero_grad()
        ((tmodel(torch.tensor(x)) - torch.tensor(y)) ** 2).mean().backward()
        topt.step()
    np.testing.assert_array_equal(model[0].weight.numpy(), weights[0])
    np.testing.assert_array_equal(model[0].bias.numpy(), weights[1])
    assert_params_close(list(model.parameters()), list(tmodel.parameters()))
    assert np.abs(model[2].weight.numpy() - extra[0]).max() > 1e-3


def test_frozen_parameter_with_a_stale_gradient_is_skipped():
    weights, batches = make_problem(steps=1)
    params = minidl_params(weights)
    minidl_loss(params, batches[0], "cpu").backward()
    params[0].requires_grad = False  # frozen after a backward: its .grad is still there
    opt = optim.SGD(params, lr=0.1)
    opt.step()
    np.testing.assert_array_equal(params[0].numpy(), weights[0])
    assert np.abs(params[1].numpy() - weights[1]).max() > 0


def test_parameter_without_gradient_is_skipped_and_gets_no_state(device):
    weights, batches = make_problem(steps=3)
    params = minidl_params(weights, device)
    unused = Parameter(mdl.tensor(np.ones(3), device=device, dtype=mdl.float64))
    _, opt = train_minidl(lambda module, ps: module.Adam(ps + [unused], weight_decay=0.1), weights, batches,
                          device, params=params)
    np.testing.assert_array_equal(unused.numpy(), np.ones(3))
    assert unused not in opt.state and len(opt.state) == 4
    assert list(opt.state_dict()["state"]) == [0, 1, 2, 3]


def test_zero_grad_sets_grads_to_none_by_default():
    weights, batches = make_problem(steps=1)
    params = minidl_params(weights)
    opt = optim.SGD(params, lr=0.1)
    minidl_loss(params, batches[0], "cpu").backward()
    kept = params[0].grad.data
    before = kept.copy()
    opt.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in params)
    np.testing.assert_array_equal(kept, before)  # the old gradient array was not written to
    opt.zero_grad()
    assert all(p.grad is None for p in params)


def test_step_with_closure_returns_the_loss():
    weights, batches = make_problem(steps=1)
    params = minidl_params(weights)
    opt = optim.SGD(params, lr=0.1)

    def closure():
        opt.zero_grad()
        loss = minidl_loss(params, batches[0], "cpu")
        loss.backward()
        return loss

    with mdl.no_grad():  # the closure runs with grad enabled anyway
        loss = opt.step(closure)
    assert loss.item() > 0 and params[0].grad is not None


# -- state dicts ---------------------------------------------------------------------------------------------
RESUME_CASES = [
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01)),
    ("Adagrad", dict(lr=0.05, lr_decay=0.01)),
    ("RMSprop", dict(lr=0.001, momentum=0.9, centered=True)),
]


@pytest.mark.parametrize("case", RESUME_CASES, ids=[case_id(c) for c in RESUME_CASES])
def test_state_dict_through_save_and_load_resumes_bit_for_bit(tmp_path, device, case):
    name, kwargs = case
    weights, batches = make_problem()

    def build(params):  # two groups, so the group layout is exercised too
        return getattr(optim, name)([{"params": params[:2], "lr": kwargs["lr"] / 10}, {"params": params[2:]}],
                                    **kwargs)

    def train(params, opt, part):
        for batch in part:
            opt.zero_grad()
            minidl_loss(params, batch, device).backward()
            opt.step()

    params = minidl_params(weights, device)
    opt = build(params)
    train(params, opt, batches[:20])
    path = tmp_path / "checkpoint.npz"
    mdl.save({"params": [p.data for p in params], "optimizer": opt.state_dict()}, path)
    train(params, opt, batches[20:])  # the uninterrupted run

    checkpoint = mdl.load(path)
    resumed = minidl_params(checkpoint["params"], device)
    opt2 = build(resumed)
    opt2.load_state_dict(checkpoint["optimizer"])
    for p in resumed:
        for key, value in opt2.state[p].items():
            if key != "step":
                assert type(value) is p.backend.array_type and value.dtype == p.dtype
    train(resumed, opt2, batches[20:])
    for p, q in zip(params, resumed):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_state_dict_layout_matches_pytorch(torch):
    weights, batches = make_problem(steps=2)
    for name, kwargs in RESUME_CASES:
        def build(module, ps):
            return getattr(module, name)([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.5}], **kwargs)

        _, ours = train_minidl(build, weights, batches)
        _, theirs = train_torch(torch, build, weights, batches)
        sd, tsd = ours.state_dict(), theirs.state_dict()
        assert list(sd) == ["state", "param_groups"]
        assert sd["state"].keys() == tsd["state"].keys()
        for index, state in sd["state"].items():
            assert state.keys() == tsd["state"][index].keys(), name
            for key, value in state.items():
                expected = tsd["state"][index][key]
                if key == "step":
                    assert value == int(expected)
                else:
                    np.testing.assert_allclose(value, expected.numpy(), rtol=1e-12)
        for group, tgroup in zip(sd["param_groups"], tsd["param_groups"]):
            assert group["params"] == tgroup["params"]
            for key, value in group.items():
                assert tgroup[key] == value, (name, key)


def test_state_dict_is_a_snapshot():
    weights, batches = make_problem(steps=3)
    params = minidl_params(weights)
    _, opt = train_minidl(lambda module, ps: module.Adam(ps), weights, batches[:1], params=params)
    sd = opt.state_dict()
    saved = sd["state"][0]["exp_avg"].copy()
    train_minidl(lambda module, ps: opt, weights, batches[1:], params=params)
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"], saved)
    assert sd["state"][0]["step"] == 1 and opt.state[params[0]]["step"] == 3


def test_load_state_dict_rejects_mismatches():
    weights, batches = make_problem(steps=1)
    params = minidl_params(weights)
    _, opt = train_minidl(lambda module, ps: module.Adam(ps), weights, batches, params=params)
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="1 parameter group.*this optimizer has 2"):
        optim.Adam([{"params": params[:2]}, {"params": params[2:]}]).load_state_dict(sd)
    with pytest.raises(ValueError, match="group 0 has 4 parameter.*and 3 in this optimizer"):
        optim.Adam(params[:3]).load_state_dict(sd)
    other = [Parameter(mdl.zeros(3, dtype=mdl.float64)) for _ in range(4)]
    fresh = optim.Adam(other)
    with pytest.raises(ValueError, match="shape"):
        fresh.load_state_dict(sd)
    assert not fresh.state  # nothing changed
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        fresh.load_state_dict({"lr": 0.1})


def test_load_state_dict_restores_hyperparameters_and_keeps_own_params():
    weights, batches = make_problem(steps=1)
    params = minidl_params(weights)
    opt = optim.SGD(params, lr=0.3, momentum=0.9)
    opt.param_groups[0]["lr"] = 0.01  # e.g. changed by a scheduler
    sd = opt.state_dict()
    other = minidl_params(weights)
    opt2 = optim.SGD(other, lr=0.1)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == 0.01 and opt2.param_groups[0]["momentum"] == 0.9
    assert all(a is b for a, b in zip(opt2.param_groups[0]["params"], other))


# -- regularisation ------------------------------------------------------------------------------------------
def test_l2_penalty_equals_sgd_weight_decay_of_two_lambda(device):
    weights, batches = make_problem()
    lam = 0.03
    with_penalty = minidl_params(weights, device)
    with_decay = minidl_params(weights, device)
    opt_p = optim.SGD(with_penalty, lr=0.05, momentum=0.9)
    opt_d = optim.SGD(with_decay, lr=0.05, momentum=0.9, weight_decay=2 * lam)
    for batch in batches:
        opt_p.zero_grad()
        opt_d.zero_grad()
        (minidl_loss(with_penalty, batch, device) + lam * F.l2_penalty(with_penalty)).backward()
        minidl_loss(with_decay, batch, device).backward()
        for p, q in zip(with_penalty, with_decay):  # same gradients: g + 2λw
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy() + 2 * lam * q.numpy(), rtol=1e-12,
                                       atol=1e-15)
        opt_p.step()
        opt_d.step()
    for p, q in zip(with_penalty, with_decay):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-10)


def test_l1_penalty_gradient_is_lambda_sign_and_matches_pytorch(torch):
    weights, batches = make_problem()
    lam = 0.01

    def build(module, ps):
        return module.SGD(ps, lr=0.05)

    ours, theirs = minidl_params(weights), torch_params(torch, weights)
    opt_m, opt_t = build(optim, ours), build(torch.optim, theirs)
    for batch in batches:
        opt_m.zero_grad()
        (minidl_loss(ours, batch, "cpu") + lam * F.l1_penalty(ours)).backward()
        plain = minidl_params([p.numpy() for p in ours])
        minidl_loss(plain, batch, "cpu").backward()
        for p, q in zip(ours, plain):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy() + lam * np.sign(p.numpy()), rtol=1e-12,
                                       atol=1e-15)
        opt_m.step()
        opt_t.zero_grad()
        (torch_loss(torch, theirs, batch) + lam * sum(w.abs().sum() for w in theirs)).backward()
        opt_t.step()
    assert_params_close(ours, theirs)


# -- eager argument checks -----------------------------------------------------------------------------------
BAD_ARGUMENTS = [
    ("SGD", dict(lr=-0.1), "lr must be a number >= 0, got -0.1"),
    ("SGD", dict(lr=float("nan")), "lr must be a number >= 0"),
    ("SGD", dict(lr="0.1"), "lr must be a number >= 0"),
    ("SGD", dict(lr=0.1, momentum=-0.9), "momentum must be a number >= 0"),
    ("SGD", dict(lr=0.1, weight_decay=-1e-4), "weight_decay must be a number >= 0"),
    ("SGD", dict(lr=0.1, nesterov=True), "nesterov=True needs momentum > 0 and dampening = 0"),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "nesterov=True needs"),
    ("Adam", dict(lr=-1e-3), "lr must be a number >= 0"),
    ("Adam", dict(betas=(1.0, 0.999)), r"betas\[0\] must be in \[0, 1\), got 1.0"),
    ("Adam", dict(betas=(0.9, -0.1)), r"betas\[1\] must be in \[0, 1\), got -0.1"),
    ("Adam", dict(betas=(0.9,)), "betas must be a pair"),
    ("Adam", dict(eps=-1e-8), "eps must be a number >= 0"),
    ("Adam", dict(weight_decay=-0.1), "weight_decay must be a number >= 0"),
    ("AdamW", dict(betas=(0.9, 1.5)), r"betas\[1\] must be in \[0, 1\)"),
    ("AdamW", dict(weight_decay=-1e-2), "weight_decay must be a number >= 0"),
    ("Adagrad", dict(lr=-0.01), "lr must be a number >= 0"),
    ("Adagrad", dict(lr_decay=-0.1), "lr_decay must be a number >= 0"),
    ("Adagrad", dict(initial_accumulator_value=-1), "initial_accumulator_value must be a number >= 0"),
    ("Adagrad", dict(weight_decay=-1), "weight_decay must be a number >= 0"),
    ("RMSprop", dict(lr=-0.01), "lr must be a number >= 0"),
    ("RMSprop", dict(alpha=-0.5), "alpha must be a number >= 0"),
    ("RMSprop", dict(alpha=1.5), r"alpha must be in \[0, 1\]"),
    ("RMSprop", dict(momentum=-0.5), "momentum must be a number >= 0"),
    ("RMSprop", dict(weight_decay=-0.5), "weight_decay must be a number >= 0"),
]


@pytest.mark.parametrize("name, kwargs, message", BAD_ARGUMENTS,
                         ids=[f"{n}-{'-'.join(k)}" for n, k, _ in BAD_ARGUMENTS])
def test_bad_hyperparameters_raise_at_construction(name, kwargs, message):
    weights, _ = make_problem(steps=0)
    with pytest.raises(ValueError, match=f"{name}: {message}"):
        getattr(optim, name)(minidl_params(weights), **kwargs)


def test_bad_params_argument():
    weights, _ = make_problem(steps=0)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="wrap it in a list"):
        optim.SGD(minidl_params(weights)[0], lr=0.1)
    with pytest.raises(TypeError, match="Tensors"):
        optim.SGD(weights, lr=0.1)


def test_defaults_and_repr():
    weights, _ = make_problem(steps=0)
    params = minidl_params(weights)
    assert optim.Adam(params).defaults == dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False)
    assert optim.AdamW(params).defaults["weight_decay"] == 1e-2
    assert optim.Adagrad(params).defaults == dict(lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                                                  eps=1e-10)
    assert optim.RMSprop(params).defaults == dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                                                  centered=False)
    assert optim.SGD(params, lr=0.1).defaults == dict(lr=0.1, momentum=0, dampening=0, weight_decay=0,
                                                      nesterov=False)
    assert "Parameter Group 0" in repr(optim.SGD(params, lr=0.1)) and "lr: 0.1" in repr(optim.SGD(params, lr=0.1))
