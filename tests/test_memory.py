"""Memory stays flat while training: no graph kept alive by History, hooks, metrics or the optimizer.

- default suite: the number of live `minidl.Tensor` objects returns to its baseline after every
  training step (an MLP and a small CNN, through a manual loop and through the Trainer);
- `-m slow`: 2,000 steps of the LeNet on the bundled digits; resident memory (RSS) after step 2,000
  is within 5% of step 200.
"""

import gc
import os
import time

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
import minidl.optim as optim
from minidl.train import Callback, EarlyStopping, ModelCheckpoint, Trainer


def live_tensors():
    gc.collect()
    # type(), not isinstance(): isinstance reads __class__, which some of torch's deprecated objects warn on
    return sum(1 for obj in gc.get_objects() if issubclass(type(obj), mdl.Tensor))


def mlp():
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 3))


def cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4 * 4 * 4, 3))


def data(kind, n=64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 8) if kind == "mlp" else (n, 1, 8, 8)).astype(np.float32)
    return X, np.arange(n) % 3


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
@pytest.mark.parametrize("make_opt", [lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9), lambda ps: optim.Adam(ps)],
                         ids=["SGD", "Adam"])
def test_live_tensors_return_to_baseline_after_each_manual_step(kind, make_opt):
    mdl.manual_seed(0)
    model = mlp() if kind == "mlp" else cnn()
    opt = make_opt(list(model.parameters()))
    loss_fn = nn.CrossEntropyLoss()
    X, y = data(kind)
    outputs_seen = []
    model.register_forward_hook(lambda module, inputs, output: outputs_seen.append(output.shape))

    def step(i):
        xb, yb = mdl.tensor(X[i * 8:(i + 1) * 8]), mdl.tensor(y[i * 8:(i + 1) * 8])
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss.item()

    step(0)  # the optimizer's state and the gradients exist from the first step on
    baseline = live_tensors()
    for i in range(1, 8):
        step(i)
        assert live_tensors() == baseline, f"step {i}: {live_tensors() - baseline} more live Tensors than after step 0"


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_live_tensors_return_to_baseline_after_each_trainer_step(kind, tmp_path):
    """Through the Trainer, with metrics, a History, EarlyStopping(restore_best_weights), a checkpoint and
    validation: the count at the end of each batch is the same from the second epoch on."""
    mdl.manual_seed(0)
    model = mlp() if kind == "mlp" else cnn()
    counts = []

    class Count(Callback):
        def on_batch_end(self, batch, logs=None):
            counts.append(live_tensors())

    X, y = data(kind)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-3),
                      metrics=("accuracy", "f1"), progress=False,
                      callbacks=[Count(), EarlyStopping(patience=50, restore_best_weights=True),
                                 ModelCheckpoint(tmp_path / "ckpt.npz", save_best_only=False)])
    history = trainer.fit((X, y), val=(X[:16], y[:16]), epochs=4, batch_size=16, seed=0)
    assert history.epochs == 4
    per_epoch = len(counts) // 4
    steady = counts[per_epoch:]  # after the first epoch: optimizer state, best weights and History exist
    assert max(steady) - min(steady) == 0, f"live Tensors per batch: {counts}"


def test_no_graph_survives_a_step():
    """After backward, the loss's graph holds no saved arrays and no inputs (freed), and History holds floats."""
    mdl.manual_seed(0)
    model = mlp()
    X, y = data("mlp")
    loss = nn.CrossEntropyLoss()(model(mdl.tensor(X)), mdl.tensor(y))
    loss.backward()
    assert loss.grad_fn.inputs is None and loss.grad_fn.saved is None
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), progress=False)
    history = trainer.fit((X, y), epochs=2, batch_size=16)
    for values in history.history.values():
        assert all(isinstance(v, float) for v in values)


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc/self/statm (Linux)")
def test_rss_flat_over_2000_lenet_steps_on_digits():
    """2,000 training steps of the LeNet on the bundled digits: RSS after step 2,000 within 5% of step 200."""
    from minidl.zoo import lenet, prepare_data

    mdl.manual_seed(0)
    d = prepare_data("digits", seed=0)
    model = lenet(d.X_train.shape[1:], len(d.class_names))
    rss = {}
    start = time.perf_counter()

    class Measure(Callback):
        step = 0

        def on_batch_end(self, batch, logs=None):
            Measure.step += 1
            if Measure.step in (200, 2000):
                gc.collect()
                rss[Measure.step] = rss_bytes()
            if Measure.step >= 2000:
                self.trainer.stop_training = True

    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-3), progress=False,
                      callbacks=[Measure()])
    batches = -(-len(d.X_train) // 32)
    trainer.fit((d.X_train, d.y_train), val=(d.X_val, d.y_val), epochs=2000 // batches + 2, batch_size=32, seed=0)
    elapsed = time.perf_counter() - start
    print(f"\nRSS at step 200: {rss[200] / 2**20:.1f} MiB, at step 2000: {rss[2000] / 2**20:.1f} MiB "
          f"({(rss[2000] / rss[200] - 1) * 100:+.2f}%), {Measure.step} steps in {elapsed:.1f} s")
    assert rss[2000] <= rss[200] * 1.05
