"""Learning-rate schedules against PyTorch's over 30 epochs, resuming, and argument checks."""

import numpy as np
import pytest

import minidl as mdl
import minidl.nn.functional as F
from minidl import optim
from minidl.nn.parameter import Parameter
from minidl.optim import lr_scheduler

EPOCHS = 30
BASE_LRS = (0.1, 0.02)  # two param groups: the fine-tuning recipe (head, backbone)


def make_optimizer(module, params):
    return module.SGD([{"params": params[:1]}, {"params": params[1:], "lr": BASE_LRS[1]}], lr=BASE_LRS[0],
                      momentum=0.9)


def minidl_optimizer():
    params = [Parameter(mdl.zeros(2, dtype=mdl.float64)), Parameter(mdl.zeros(3, dtype=mdl.float64))]
    return make_optimizer(optim, params)


def torch_optimizer(torch):
    return make_optimizer(torch.optim, [torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(3))])


def lr_sequence(opt, scheduler, metrics=None):
    """get_last_lr() and the groups' lr right after construction, then after each of EPOCHS epochs."""
    seq = [scheduler.get_last_lr()]
    for epoch in range(EPOCHS):
        opt.step()  # PyTorch wants optimizer.step() before scheduler.step()
        if metrics is None:
            scheduler.step()
        else:
            scheduler.step(metrics[epoch])
        assert scheduler.get_last_lr() == [g["lr"] for g in opt.param_groups]
        seq.append(scheduler.get_last_lr())
    return np.array(seq)


SCHEDULES = [
    ("StepLR", dict(step_size=7)),
    ("StepLR", dict(step_size=10, gamma=0.5)),
    ("StepLR", dict(step_size=1, gamma=0.9)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("ExponentialLR", dict(gamma=1.05)),
    ("CosineAnnealingLR", dict(T_max=30)),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=0.001)),  # past T_max: rises again (period 2·T_max)
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.005)),
    ("CosineAnnealingLR", dict(T_max=1)),
]


@pytest.mark.parametrize("name, kwargs", SCHEDULES, ids=[f"{n}{k}" for n, k in SCHEDULES])
def test_schedule_matches_pytorch_over_30_epochs(torch, name, kwargs):
    ours_opt, theirs_opt = minidl_optimizer(), torch_optimizer(torch)
    ours = lr_sequence(ours_opt, getattr(lr_scheduler, name)(ours_opt, **kwargs))
    theirs = lr_sequence(theirs_opt, getattr(torch.optim.lr_scheduler, name)(theirs_opt, **kwargs))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)


def test_schedules_follow_their_closed_forms():
    def run(name, **kwargs):
        opt = minidl_optimizer()
        return lr_sequence(opt, getattr(lr_scheduler, name)(opt, **kwargs))[:, 0]

    epochs = np.arange(EPOCHS + 1)
    np.testing.assert_allclose(run("StepLR", step_size=7), 0.1 * 0.1 ** (epochs // 7), rtol=1e-12)
    np.testing.assert_allclose(run("ExponentialLR", gamma=0.9), 0.1 * 0.9 ** epochs, rtol=1e-12)
    cosine = 0.001 + (0.1 - 0.001) * (1 + np.cos(np.pi * epochs / 30)) / 2
    np.testing.assert_allclose(run("CosineAnnealingLR", T_max=30, eta_min=0.001), cosine, rtol=1e-12)


# A validation loss that improves, stalls with noise, improves a little, then stalls again.
PLATEAU_METRICS = [1.0, 0.8, 0.7, 0.69, 0.69, 0.6999, 0.70, 0.68, 0.68, 0.6801, 0.69, 0.7, 0.5, 0.5, 0.49999,
                   0.51, 0.52, 0.5, 0.5, 0.45, 0.45, 0.46, 0.47, 0.45, 0.45, 0.45, 0.44, 0.44, 0.44, 0.44]
PLATEAUS = [
    dict(),
    dict(patience=2),
    dict(patience=1, factor=0.5, cooldown=2),
    dict(patience=0, factor=0.5, min_lr=0.01),
    dict(patience=0, factor=0.5, min_lr=[0.03, 0.001]),
    dict(patience=1, threshold=0.05),
    dict(patience=1, threshold=0.01, threshold_mode="abs"),
    dict(patience=0, factor=0.9, eps=0.005),  # changes smaller than eps are skipped
    dict(mode="max", patience=2),
    dict(mode="max", patience=1, threshold=0.02, threshold_mode="abs", cooldown=1),
]


@pytest.mark.parametrize("kwargs", PLATEAUS, ids=[str(k) for k in PLATEAUS])
def test_reduce_lr_on_plateau_matches_pytorch(torch, kwargs):
    ours_opt, theirs_opt = minidl_optimizer(), torch_optimizer(torch)
    metrics = PLATEAU_METRICS if kwargs.get("mode") != "max" else [-m for m in PLATEAU_METRICS]
    ours = lr_sequence(ours_opt, lr_scheduler.ReduceLROnPlateau(ours_opt, **kwargs), metrics)
    theirs = lr_sequence(theirs_opt, torch.optim.lr_scheduler.ReduceLROnPlateau(theirs_opt, **kwargs), metrics)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)
    if kwargs.get("patience", 10) <= 1:
        assert ours[-1, 0] < BASE_LRS[0]  # the case did reduce the rate


def test_reduce_lr_on_plateau_accepts_a_tensor_metric():
    opt = minidl_optimizer()
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    sched.step(mdl.tensor(1.0))
    sched.step(mdl.tensor(2.0))
    assert sched.get_last_lr() == pytest.approx([0.01, 0.002])


@pytest.mark.parametrize("make", [
    lambda opt: lr_scheduler.StepLR(opt, step_size=4, gamma=0.5),
    lambda opt: lr_scheduler.ExponentialLR(opt, gamma=0.8),
    lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=8, eta_min=0.001),
    lambda opt: lr_scheduler.ReduceLROnPlateau(opt, patience=1, cooldown=1),
], ids=["StepLR", "ExponentialLR", "CosineAnnealingLR", "ReduceLROnPlateau"])
def test_scheduler_resumes_from_saved_state(tmp_path, make):
    """Optimizer and scheduler state through mdl.save/mdl.load continue the sequence exactly."""
    plateau = isinstance(make(minidl_optimizer()), lr_scheduler.ReduceLROnPlateau)

    def advance(opt, sched, epochs):
        for epoch in epochs:
            opt.step()
            sched.step(PLATEAU_METRICS[epoch]) if plateau else sched.step()
        return sched.get_last_lr()

    opt = minidl_optimizer()
    sched = make(opt)
    advance(opt, sched, range(10))
    path = tmp_path / "checkpoint.npz"
    mdl.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, path)
    expected = [advance(opt, sched, [epoch]) for epoch in range(10, EPOCHS)]

    checkpoint = mdl.load(path)
    opt2 = minidl_optimizer()
    sched2 = make(opt2)  # as in PyTorch: create the scheduler, then load both states
    opt2.load_state_dict(checkpoint["optimizer"])
    sched2.load_state_dict(checkpoint["scheduler"])
    resumed = [advance(opt2, sched2, [epoch]) for epoch in range(10, EPOCHS)]
    assert resumed == expected


def test_scheduler_drives_training_like_pytorch(torch):
    """SGD with momentum under StepLR: the rates reach the updates exactly as in PyTorch."""
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(3, 5))
    batches = [(rng.normal(size=(8, 5)), rng.normal(size=(8, 3))) for _ in range(12)]
    w = Parameter(mdl.tensor(w0, dtype=mdl.float64))
    tw = torch.nn.Parameter(torch.tensor(w0))
    opt, topt = optim.SGD([w], lr=0.1, momentum=0.9), torch.optim.SGD([tw], lr=0.1, momentum=0.9)
    sched = lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    tsched = torch.optim.lr_scheduler.StepLR(topt, step_size=3, gamma=0.5)
    for epoch in range(6):
        for x, y in batches[2 * epoch: 2 * epoch + 2]:
            opt.zero_grad()
            ((F.linear(mdl.tensor(x), w) - mdl.tensor(y)) ** 2).mean().backward()
            opt.step()
            topt.zero_grad()
            ((torch.nn.functional.linear(torch.tensor(x), tw) - torch.tensor(y)) ** 2).mean().backward()
            topt.step()
        sched.step()
        tsched.step()
    np.testing.assert_allclose(w.numpy(), tw.detach().numpy(), rtol=1e-12)


def test_initial_lr_and_resuming_with_last_epoch(torch):
    opt = minidl_optimizer()
    lr_scheduler.ExponentialLR(opt, gamma=0.5)
    assert [g["initial_lr"] for g in opt.param_groups] == list(BASE_LRS)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(minidl_optimizer(), step_size=2, last_epoch=5)
    topt = torch_optimizer(torch)
    torch.optim.lr_scheduler.ExponentialLR(topt, gamma=0.5)
    ours = lr_sequence(opt, lr_scheduler.CosineAnnealingLR(opt, T_max=10, last_epoch=4))
    theirs = lr_sequence(topt, torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max=10, last_epoch=4))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)


BAD_SCHEDULES = [
    (lambda opt: lr_scheduler.StepLR(opt, step_size=0), "step_size must be a positive integer"),
    (lambda opt: lr_scheduler.StepLR(opt, step_size=2.5), "step_size must be a positive integer"),
    (lambda opt: lr_scheduler.StepLR(opt, step_size=2, gamma=-0.1), "gamma must be a number >= 0"),
    (lambda opt: lr_scheduler.ExponentialLR(opt, gamma=-1), "gamma must be a number >= 0"),
    (lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=0), "T_max must be a positive integer"),
    (lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=5, eta_min=-1), "eta_min must be a number >= 0"),
    (lambda opt: lr_scheduler.ReduceLROnPlateau(opt, factor=1.0), r"factor must be in \[0, 1\)"),
    (lambda opt: lr_scheduler.ReduceLROnPlateau(opt, mode="best"), "mode must be 'min'"),
    (lambda opt: lr_scheduler.ReduceLROnPlateau(opt, threshold_mode="pct"), "threshold_mode must be 'rel' or 'abs'"),
    (lambda opt: lr_scheduler.ReduceLROnPlateau(opt, patience=-1), "patience must be an integer >= 0"),
    (lambda opt: lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0.1]), "min_lr has 1 values.*2 param group"),
    (lambda opt: lr_scheduler.ReduceLROnPlateau(opt, min_lr=-0.1), "min_lr must be >= 0"),
]


@pytest.mark.parametrize("make, message", BAD_SCHEDULES, ids=[m for _, m in BAD_SCHEDULES])
def test_bad_scheduler_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make(minidl_optimizer())


def test_scheduler_needs_a_minidl_optimizer(torch):
    with pytest.raises(TypeError, match="minidl Optimizer"):
        lr_scheduler.StepLR(torch_optimizer(torch), step_size=2)
