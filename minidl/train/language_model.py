"""Training by steps for language models: random batches, a validation check every few steps, no epochs.

    history = fit_steps(model, next_batch, optimizer, steps=2000, loss_fn=sequence_loss,
                        scheduler=LambdaLR(optimizer, WarmupCosine(100, 2000, 0.1)), clip=1.0,
                        evaluate=lambda: {"val_loss": mean_loss(model, ordered_windows(val, 64, 64))},
                        eval_every=250)
    history["val_loss"], history["eval_step"]       # one entry per check; history["loss"] one per step

A language model sees its text as an endless supply of windows (`data.text.random_windows`), so it is
trained for a number of steps (nanoGPT's iterations), and checked on held-out text every `eval_every`
steps. Losses are mean cross-entropies in nats per predicted character (÷ ln 2 for bits).
"""

import math
import time

import numpy as np

import minidl as mdl
import minidl.nn.functional as F
from minidl.data.text import random_windows
from minidl.errors import ArgumentError
from minidl.nn.utils import clip_grad_norm_
from minidl.optim import SGD, AdamW
from minidl.optim.lr_scheduler import LambdaLR, WarmupCosine

NATS_PER_BIT = math.log(2)


def sequence_loss(logits, targets):
    """Mean cross-entropy of every position: logits (N, T, V) or (N, V), integer targets (N, T) or (N,)."""
    if logits.ndim == 3:
        n, t, v = logits.shape
        return F.cross_entropy(logits.reshape(n * t, v), targets.reshape(n * t))
    return F.cross_entropy(logits, targets)


def ordered_windows(tokens, block_size, batch_size):
    """Every (x, y) window of `tokens` in order, without overlap: batches of (≤ batch_size, block_size) int64.

    Together the targets cover tokens[1 : 1 + k · block_size], all but at most block_size of the text: an
    exact validation loss rather than nanoGPT's estimate from a few random batches.
    """
    tokens = np.asarray(tokens)
    n_windows = (len(tokens) - 1) // block_size
    if n_windows < 1:
        raise ArgumentError(f"ordered_windows: {len(tokens)} tokens hold no window of {block_size} plus a target")
    starts = np.arange(n_windows) * block_size
    for first in range(0, n_windows, batch_size):
        offsets = starts[first:first + batch_size, None] + np.arange(block_size)
        yield tokens[offsets].astype(np.int64), tokens[offsets + 1].astype(np.int64)


def mean_loss(model, batches, loss_fn=sequence_loss, device="cpu"):
    """The loss averaged over every target of `batches` (an iterable of (x, y) arrays), in eval mode, no graph."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        with mdl.no_grad():
            for x, y in batches:
                n = int(np.prod(y.shape))
                loss = loss_fn(model(mdl.tensor(x, device=device)), mdl.tensor(y, device=device))
                total += loss.item() * n
                count += n
    finally:
        model.train(was_training)
    return total / count


def fit_steps(model, next_batch, optimizer, steps, loss_fn=sequence_loss, scheduler=None, clip=None,
              evaluate=None, eval_every=None, log=print, log_every=100, device="cpu"):
    """Train `model` for `steps` optimizer steps on batches from `next_batch()` (a pair of int arrays).

    Each step: loss_fn(model(x), y), backward, clip the gradients' total norm to `clip` (if given),
    optimizer.step(), then scheduler.step() (a per-step schedule such as LambdaLR(WarmupCosine)).
    `evaluate()` returns a dict of validation numbers (e.g. {"val_loss": ...}); it runs every
    `eval_every` steps and after the last one. Returns a dict of lists: "loss" and "lr" per step,
    "eval_step" and each evaluate() key per check, "seconds" (training time without the checks).
    """
    if steps < 1:
        raise ArgumentError(f"fit_steps: steps must be >= 1, got {steps}")
    history = {"loss": [], "lr": [], "eval_step": [], "seconds": 0.0}
    model.train()
    train_seconds, started = 0.0, time.perf_counter()
    for step in range(1, steps + 1):
        x, y = next_batch()
        loss = loss_fn(model(mdl.tensor(x, device=device)), mdl.tensor(y, device=device))
        optimizer.zero_grad()
        loss.backward()
        if clip:
            clip_grad_norm_(model.parameters(), clip)
        history["lr"].append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        history["loss"].append(loss.item())
        checking = evaluate is not None and (step == steps or (eval_every and step % eval_every == 0))
        if checking or (log and log_every and step % log_every == 0):
            train_seconds += time.perf_counter() - started
            line = f"step {step:6d}/{steps}  loss {np.mean(history['loss'][-(log_every or 1):]):.4f}"
            if checking:
                results = evaluate()
                history["eval_step"].append(step)
                for key, value in results.items():
                    history.setdefault(key, []).append(value)
                line += "  " + "  ".join(f"{key} {value:.4f}" for key, value in results.items())
            if log:
                log(f"{line}  ({train_seconds:.0f} s)")
            started = time.perf_counter()
    history["seconds"] = train_seconds + time.perf_counter() - started
    return history


def decay_groups(model, weight_decay):
    """nanoGPT's AdamW groups: weight decay on matrices and embeddings (2-d and up), none on biases and norms."""
    params = list(model.parameters())
    return [{"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
            {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]


def train_on_text(model, train_tokens, val_tokens, steps, batch_size, block_size, lr=1e-3, min_lr_factor=0.1,
                  warmup=100, weight_decay=0.1, betas=(0.9, 0.99), clip=1.0, eval_every=250, eval_batches=20,
                  seed=0, log=print, device="cpu"):
    """nanoGPT's training recipe for any (N, T) -> (N, T, V) model on a token array; returns the history.

    AdamW (decay on matrices only, `decay_groups`), a linear warm-up over `warmup` steps then cosine decay
    to min_lr_factor · lr at the last step (LambdaLR(WarmupCosine)), gradients clipped to norm `clip`,
    batches of random windows (`random_windows`, seeded). Every `eval_every` steps: nanoGPT's estimate,
    the mean loss of `eval_batches` random validation batches ("val_loss"). At the end, history["val_loss_full"]
    is the exact loss over every validation window in order (`ordered_windows`), in nats per character.
    """

    optimizer = AdamW(decay_groups(model, weight_decay), lr=lr, betas=betas)
    scheduler = LambdaLR(optimizer, WarmupCosine(min(warmup, steps - 1), steps, min_lr_factor))
    train_rng, val_rng = np.random.default_rng(seed), np.random.default_rng(seed + 1)

    def estimate():
        batches = [random_windows(val_tokens, batch_size, block_size, val_rng) for _ in range(eval_batches)]
        return {"val_loss": mean_loss(model, batches, device=device)}

    history = fit_steps(model, lambda: random_windows(train_tokens, batch_size, block_size, train_rng), optimizer,
                        steps, scheduler=scheduler, clip=clip, evaluate=estimate, eval_every=eval_every, log=log,
                        log_every=eval_every // 5 if eval_every >= 5 else eval_every, device=device)
    history["val_loss_full"] = mean_loss(model, ordered_windows(val_tokens, block_size, 64), device=device)
    return history


def train_on_contexts(model, train, dev, steps, batch_size=32, lr=0.1, decay_at=0.5, eval_every=None, seed=0,
                      log=print, device="cpu"):
    """makemore's recipe for a fixed-context model (X (N, k) -> next character Y (N,)); returns the history.

    SGD at `lr` on random batches of `batch_size` rows, the rate divided by 10 after `decay_at` of the
    steps; "dev_loss" is the exact loss over all of `dev` = (X_dev, Y_dev), checked every `eval_every` steps.
    """

    X, Y = train
    optimizer = SGD(model.parameters(), lr=lr)
    scheduler = LambdaLR(optimizer, lambda step: 1.0 if step < decay_at * steps else 0.1)
    rng = np.random.default_rng(seed)

    def next_batch():
        rows = rng.integers(0, len(X), size=batch_size)
        return X[rows], Y[rows]

    every = eval_every or max(steps // 10, 1)
    return fit_steps(model, next_batch, optimizer, steps, scheduler=scheduler,
                     evaluate=lambda: {"dev_loss": mean_loss(model, [dev], device=device)}, eval_every=every,
                     log=log, log_every=every, device=device)


def bits(nats):
    """Nats per character -> bits per character."""
    return nats / NATS_PER_BIT


__all__ = ["bits", "decay_groups", "fit_steps", "mean_loss", "ordered_windows", "sequence_loss", "train_on_contexts",
           "train_on_text"]
