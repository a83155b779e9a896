"""LambdaLR against PyTorch's, and the warm-up + cosine factor against nanoGPT's get_lr written out."""

import math

import numpy as np
import pytest

import minidl as mdl
from minidl import optim
from minidl.nn.parameter import Parameter
from minidl.optim import lr_scheduler
from minidl.optim.lr_scheduler import LambdaLR, WarmupCosine

STEPS = 60
BASE_LRS = (1e-3, 3e-4)


def two_groups(module, params):
    return module.AdamW([{"params": params[:1]}, {"params": params[1:], "lr": BASE_LRS[1]}], lr=BASE_LRS[0])


def sequence(opt, sched):
    seq = [sched.get_last_lr()]
    for _ in range(STEPS):
        opt.step()
        sched.step()
        seq.append(sched.get_last_lr())
    return np.array(seq)


def nanogpt_lr(it, learning_rate, warmup_iters, lr_decay_iters, min_lr):
    """nanoGPT's train.py get_lr, copied as written there."""
    if it < warmup_iters:
        return learning_rate * (it + 1) / (warmup_iters + 1)
    if it > lr_decay_iters:
        return min_lr
    decay_ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))
    return min_lr + coeff * (learning_rate - min_lr)


@pytest.mark.parametrize("factor", [WarmupCosine(10, 50, 0.1), WarmupCosine(0, 40), lambda e: 0.95 ** e,
                                    [WarmupCosine(5, 30), lambda e: 1 / (1 + e)]],
                         ids=["warmup-cosine", "no-warmup", "exponential", "per-group"])
def test_lambda_lr_matches_pytorch(torch, factor):
    ours_opt = two_groups(optim, [Parameter(mdl.zeros(2, dtype=mdl.float64)),
                                  Parameter(mdl.zeros(3, dtype=mdl.float64))])
    theirs_opt = two_groups(torch.optim, [torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(3))])
    ours = sequence(ours_opt, LambdaLR(ours_opt, factor))
    theirs = sequence(theirs_opt, torch.optim.lr_scheduler.LambdaLR(theirs_opt, factor))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)


@pytest.mark.parametrize("warmup, total, min_factor", [(100, 2000, 0.1), (0, 500, 0.0), (7, 8, 0.5)])
def test_warmup_cosine_is_nanogpts_schedule(warmup, total, min_factor):
    lr = 1e-3
    f = WarmupCosine(warmup, total, min_factor)
    for it in list(range(0, total + 20)):
        assert lr * f(it) == pytest.approx(nanogpt_lr(it, lr, warmup, total, min_factor * lr), rel=1e-12, abs=1e-18)
    assert f(total) == pytest.approx(min_factor) and f(warmup) == pytest.approx(1.0)


def test_lambda_lr_resumes_from_its_state_dict(tmp_path):
    def make():
        opt = two_groups(optim, [Parameter(mdl.zeros(2)), Parameter(mdl.zeros(3))])
        return opt, LambdaLR(opt, WarmupCosine(5, 40, 0.1))

    opt, sched = make()
    for _ in range(12):
        sched.step()
    mdl.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, tmp_path / "ck.npz")
    expected = []
    for _ in range(10):
        sched.step()
        expected.append(sched.get_last_lr())
    opt2, sched2 = make()
    checkpoint = mdl.load(tmp_path / "ck.npz")
    opt2.load_state_dict(checkpoint["optimizer"])
    sched2.load_state_dict(checkpoint["scheduler"])
    got = []
    for _ in range(10):
        sched2.step()
        got.append(sched2.get_last_lr())
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_bad_arguments_are_named():
    opt = optim.SGD([Parameter(mdl.zeros(2))], lr=0.1)
    with pytest.raises(mdl.errors.ArgumentTypeError, match="LambdaLR"):
        LambdaLR(opt, 0.5)
    with pytest.raises(mdl.errors.ArgumentError, match="param group"):
        LambdaLR(opt, [lambda e: 1.0, lambda e: 1.0])
    with pytest.raises(mdl.errors.ArgumentError, match="total"):
        WarmupCosine(10, 10)
    with pytest.raises(mdl.errors.ArgumentError, match="min_factor"):
        WarmupCosine(1, 10, min_factor=2)
    assert lr_scheduler.LambdaLR is LambdaLR
