"""K-fold cross-validation and hyper-parameter search, with scikit-learn's splitters and joblib.

    def build(lr=1e-3):
        model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
        return model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=lr)

    cv = cross_validate(build, X, y, k=5, seed=0, epochs=20)          # cv.mean["val_accuracy"], cv.std[...]
    search = grid_search(build, {"lr": [1e-4, 1e-3, 1e-2]}, X, y, k=5, seed=0, epochs=20)
    search.best_params, search.best_score, search.best_model          # refitted on all of X, y
    pandas.DataFrame(search.results)                                  # one row per candidate

The method: the folds come from `StratifiedKFold` (integer labels, the default) or `KFold`, shuffled with
`seed`; every candidate is scored on the same folds. Fold f of every candidate runs after
`mdl.manual_seed(seed + f)` (and its DataLoader is seeded with `seed + f`), so results are identical
whichever process runs it: `n_jobs=1` (in this process), `n_jobs=2` (joblib's process pool) or a Dask
cluster (`backend="dask"` with a `dask.distributed.Client` open; `pip install minidl[distributed]`).
A fold's scores are those of its final model (after EarlyStopping's restore_best_weights, when used)
on its validation part.

`build(**params)` returns `(model, loss_fn, optimizer)` (wrapped in a Trainer with `metrics` and
`device`, no progress bar) or a `Trainer`. It runs in worker processes, so it must be picklable
(module-level functions are; joblib's cloudpickle also takes lambdas and closures).
"""

import math

import numpy as np
from sklearn.model_selection import KFold, ParameterGrid, ParameterSampler, StratifiedKFold

from minidl.backend import get_backend
from minidl.errors import ArgumentError, ArgumentTypeError
from minidl.metrics import lower_is_better, to_numpy
from minidl.random import manual_seed
from minidl.tensor import Tensor
from minidl.train.callbacks import ProgressBar
from minidl.train.history import History
from minidl.train.trainer import DEFAULT_METRICS, Trainer


class CVResult:
    """The outcome of `cross_validate`.

    Attributes:
        scores:    {"val_loss": [k floats], "val_accuracy": [...], ...}: each fold's final model on its
                   validation part
        mean, std: {name: float} over the folds (std with ddof=0, as scikit-learn's cv_results_)
        histories: the k fold Histories
        folds:     the k (train_idx, val_idx) index arrays
        params:    the build parameters
    """

    def __init__(self, scores, histories, folds, params=None):
        self.scores = scores
        self.histories = histories
        self.folds = folds
        self.params = dict(params or {})
        self.mean = {name: float(np.mean(values)) for name, values in scores.items()}
        self.std = {name: float(np.std(values)) for name, values in scores.items()}

    @property
    def k(self):
        return len(self.folds)

    def summary(self):
        return ", ".join(f"{name} {self.mean[name]:.4g} ± {self.std[name]:.2g}" for name in self.scores)

    def __repr__(self):
        return f"<CVResult k={self.k}: {self.summary()}>"


class SearchResult:
    """The outcome of `grid_search` / `random_search`.

    Attributes:
        results:      one dict per candidate: its params, then mean_<name>, std_<name> of every validation
                      score, split<i>_<scoring> per fold, and rank_<scoring> (1 = best); a list that
                      `pandas.DataFrame(results)` takes as it is
        best_params:  the params of the candidate with the best mean `scoring`
        best_score:   that mean
        best_index:   its position in `results`
        best_model:   a model built with best_params and trained on all of X, y (None with refit=False)
        best_trainer: the Trainer that trained it (for `predict`/`evaluate`)
        cv_results:   the CVResult of every candidate
        scoring, mode: the score used and whether lower ("min") or higher ("max") is better
    """

    def __init__(self, results, cv_results, scoring, mode, best_index, best_trainer=None, refit_epochs=None):
        self.results = results
        self.cv_results = cv_results
        self.scoring = scoring
        self.mode = mode
        self.best_index = best_index
        self.best_params = dict(cv_results[best_index].params)
        self.best_score = cv_results[best_index].mean[scoring]
        self.best_trainer = best_trainer
        self.best_model = None if best_trainer is None else best_trainer.model
        self.refit_epochs = refit_epochs

    def __repr__(self):
        return (f"<SearchResult {len(self.results)} candidates: best {self.best_params} "
                f"({self.scoring} {self.best_score:.4g})>")


# -- folds ---------------------------------------------------------------------------------------------------------
def make_folds(X, y, k=5, stratified=True, seed=None):
    """k (train_idx, val_idx) pairs from scikit-learn's StratifiedKFold (integer labels) or KFold, shuffled."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise ArgumentError(f"cross-validation: k must be an integer >= 2 (folds), got {k!r}")
    if len(X) != len(y):
        raise ArgumentError(f"cross-validation: X has {len(X)} samples but y has {len(y)}")
    if k > len(X):
        raise ArgumentError(f"cross-validation: k={k} folds need at least {k} samples, got {len(X)}")
    y = np.asarray(y)
    if stratified and y.ndim == 1 and y.dtype.kind in "iub":
        classes, counts = np.unique(y, return_counts=True)
        if counts.max() < k:  # scikit-learn's refusal, in minidl's words
            raise ArgumentError(f"cross-validation: k={k} stratified folds need a class with at least {k} samples, "
                                f"but the {len(y)} samples have at most {counts.max()} per class "
                                f"({len(classes)} classes); use a smaller k or more samples")
        splitter = StratifiedKFold(n_splits=int(k), shuffle=True, random_state=seed)
    else:  # regression targets (or stratified=False): plain K-fold, as scikit-learn does for regressors
        splitter = KFold(n_splits=int(k), shuffle=True, random_state=seed)
    return [(np.asarray(tr, dtype=np.int64), np.asarray(va, dtype=np.int64)) for tr, va in splitter.split(X, y)]


def _resolve_seed(seed):
    if seed is None:  # drawn from minidl's generator, so mdl.manual_seed makes the whole search repeatable
        return int(get_backend("cpu").rng.integers(2**31 - 1))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ArgumentError(f"cross-validation: seed must be a non-negative integer or None, got {seed!r}")
    return int(seed)


def _arrays(X, y):
    X = to_numpy(X) if isinstance(X, Tensor) else np.asarray(X)
    y = to_numpy(y) if isinstance(y, Tensor) else np.asarray(y)
    if len(X) != len(y):
        raise ArgumentError(f"cross-validation: X has {len(X)} samples but y has {len(y)}")
    return X, y


def as_trainer(built, metrics=DEFAULT_METRICS, device="cpu"):
    """A Trainer from what `build(**params)` returned: a Trainer, or (model, loss_fn, optimizer)."""
    if isinstance(built, Trainer):
        trainer = built
    elif isinstance(built, (tuple, list)) and len(built) == 3:
        trainer = Trainer(*built, metrics=metrics, device=device, progress=False)
    else:
        raise ArgumentTypeError(f"build(**params) must return (model, loss_fn, optimizer) or a Trainer, got "
                        f"{type(built).__name__}")
    trainer.progress = False
    trainer.callbacks = [cb for cb in trainer.callbacks if not isinstance(cb, ProgressBar)]
    return trainer


# -- one fold, in whatever process runs it -------------------------------------------------------------------------
def _fit_fold(build, params, X, y, train_idx, val_idx, seed, epochs, batch_size, metrics, device, fit_kwargs):
    manual_seed(seed)
    trainer = as_trainer(build(**params), metrics, device)
    train, val = (X[train_idx], y[train_idx]), (X[val_idx], y[val_idx])
    history = trainer.fit(train, val, epochs=epochs, batch_size=batch_size, seed=seed, **fit_kwargs)
    scores = {f"val_{name}": value for name, value in trainer.evaluate(val).items()}
    return history.to_dict(), scores


def _run_parallel(tasks, n_jobs, backend):
    """Run `_fit_fold(*task)` for every task through joblib; results in task order."""
    from joblib import Parallel, delayed, parallel_config

    if backend == "dask":
        try:
            import dask.distributed  # noqa: F401
        except ImportError:
            raise ImportError("backend='dask' needs dask.distributed: pip install 'minidl[distributed]' "
                              "(dask, distributed), then open a dask.distributed.Client") from None
    jobs = (delayed(_fit_fold)(*task) for task in tasks)
    if backend is None:
        return Parallel(n_jobs=n_jobs)(jobs)
    with parallel_config(backend=backend):
        return Parallel(n_jobs=n_jobs)(jobs)


def _collect(outputs, folds, params):
    histories = [History.from_dict(h) for h, _ in outputs]
    names = list(outputs[0][1])
    scores = {name: [float(s[name]) for _, s in outputs] for name in names}
    return CVResult(scores, histories, folds, params)


# -- public ---------------------------------------------------------------------------------------------------------
def cross_validate(build, X, y, k=5, stratified=True, seed=None, epochs=10, batch_size=32, n_jobs=1, backend=None,
                   params=None, metrics=DEFAULT_METRICS, device="cpu", **fit_kwargs):
    """K-fold cross-validation of the model that `build(**params)` makes; returns a CVResult.

    Each fold trains a fresh model on k-1 parts for `epochs` epochs, validating on the remaining part
    (its History has "val_..." every epoch), and is scored by its final model on that part.
    n_jobs: folds in parallel (joblib; -1: all cores); backend: a joblib backend name ("loky" default,
    "dask" for a dask.distributed cluster, ...). Other keyword arguments go to `Trainer.fit`.
    """
    X, y = _arrays(X, y)
    seed = _resolve_seed(seed)
    params = dict(params or {})
    folds = make_folds(X, y, k, stratified, seed)
    tasks = [(build, params, X, y, tr, va, seed + f, epochs, batch_size, metrics, device, fit_kwargs)
             for f, (tr, va) in enumerate(folds)]
    return _collect(_run_parallel(tasks, n_jobs, backend), folds, params)


def grid_search(build, param_grid, X, y, k=5, scoring="val_loss", mode="auto", n_jobs=1, refit=True, seed=None,
                stratified=True, epochs=10, batch_size=32, backend=None, metrics=DEFAULT_METRICS, device="cpu",
                refit_epochs="auto", **fit_kwargs):
    """Cross-validate every combination in `param_grid` (a dict of lists, or a list of such dicts, as
    scikit-learn's ParameterGrid) on the same k folds; pick the best mean `scoring`; refit it on all of
    X, y. Returns a SearchResult. See `_search` for `scoring`, `mode`, `refit_epochs`."""
    candidates = list(ParameterGrid(param_grid))
    return _search(build, candidates, X, y, k, scoring, mode, n_jobs, refit, seed, stratified, epochs, batch_size,
                   backend, metrics, device, refit_epochs, fit_kwargs)


def random_search(build, param_distributions, X, y, n_iter=10, k=5, seed=None, scoring="val_loss", mode="auto",
                  n_jobs=1, refit=True, stratified=True, epochs=10, batch_size=32, backend=None,
                  metrics=DEFAULT_METRICS, device="cpu", refit_epochs="auto", **fit_kwargs):
    """Cross-validate `n_iter` candidates drawn by scikit-learn's ParameterSampler from
    `param_distributions` (lists are sampled uniformly, objects with `.rvs` are sampled from: use
    `log_uniform(1e-4, 1e-1)` for learning rates), with `seed`; otherwise as `grid_search`."""
    seed = _resolve_seed(seed)
    candidates = list(ParameterSampler(param_distributions, n_iter=n_iter, random_state=seed))
    candidates = [{key: _plain(value) for key, value in c.items()} for c in candidates]
    return _search(build, candidates, X, y, k, scoring, mode, n_jobs, refit, seed, stratified, epochs, batch_size,
                   backend, metrics, device, refit_epochs, fit_kwargs)


def log_uniform(low, high):
    """A distribution whose logarithm is uniform on [log low, log high] (scipy.stats.loguniform):
    every decade between 1e-4 and 1e-1 is drawn equally often. For `random_search`."""
    from scipy.stats import loguniform

    if not 0 < low < high:
        raise ArgumentError(f"log_uniform: need 0 < low < high, got low={low!r}, high={high!r}")
    return loguniform(low, high)


def _search(build, candidates, X, y, k, scoring, mode, n_jobs, refit, seed, stratified, epochs, batch_size, backend,
            metrics, device, refit_epochs, fit_kwargs):
    """The search itself.

    scoring: a validation quantity ("val_loss", "val_accuracy"; "accuracy" means "val_accuracy").
    mode: "min", "max" or "auto" (min for losses and errors). A candidate whose mean is NaN ranks last.
    refit_epochs: epochs of the final fit on all data; "auto": `epochs`, or, when the best candidate's
    folds stopped early, the mean number of epochs to their best epoch (rounded). Callbacks that
    monitor a validation quantity (EarlyStopping, ...) are left out of that fit, which has no validation data.
    """
    if not candidates:
        raise ArgumentError("search: no candidate parameters (empty grid or n_iter=0)")
    X, y = _arrays(X, y)
    seed = _resolve_seed(seed)
    if not scoring.startswith("val_"):
        scoring = "val_" + scoring
    mode = mode if mode in ("min", "max") else ("min" if lower_is_better(scoring) else "max")
    folds = make_folds(X, y, k, stratified, seed)
    tasks = [(build, params, X, y, tr, va, seed + f, epochs, batch_size, metrics, device, fit_kwargs)
             for params in candidates for f, (tr, va) in enumerate(folds)]
    outputs = _run_parallel(tasks, n_jobs, backend)
    k = len(folds)
    cv_results = [_collect(outputs[c * k:(c + 1) * k], folds, params) for c, params in enumerate(candidates)]
    if scoring not in cv_results[0].scores:
        raise ArgumentError(f"search: scoring={scoring!r} is not among the validation scores; available: "
                         f"{sorted(cv_results[0].scores)}")
    means = [cv.mean[scoring] for cv in cv_results]
    keys = [(math.inf if math.isnan(m) else (m if mode == "min" else -m)) for m in means]
    order = sorted(range(len(keys)), key=lambda i: keys[i])  # stable: ties keep the earlier candidate
    ranks = {i: r + 1 for r, i in enumerate(order)}
    results = []
    for c, cv in enumerate(cv_results):
        row = dict(cv.params)
        for name in cv.scores:
            row[f"mean_{name}"] = cv.mean[name]
            row[f"std_{name}"] = cv.std[name]
        for f, value in enumerate(cv.scores[scoring]):
            row[f"split{f}_{scoring}"] = value
        row[f"rank_{scoring}"] = ranks[c]
        results.append(row)
    best = order[0]
    trainer, n_epochs = None, None
    if refit:
        n_epochs = _refit_epochs(refit_epochs, epochs, cv_results[best].histories)
        manual_seed(seed)
        trainer = as_trainer(build(**candidates[best]), metrics, device)
        trainer.callbacks = [cb for cb in trainer.callbacks if not str(getattr(cb, "monitor", "")).startswith("val_")]
        if trainer.scheduler is not None and str(trainer.scheduler.monitor).startswith("val_") \
                and trainer.scheduler.needs_metric:
            trainer.scheduler.monitor = trainer.scheduler.monitor[4:]
        trainer.fit((X, y), epochs=n_epochs, batch_size=batch_size, seed=seed, **fit_kwargs)
    return SearchResult(results, cv_results, scoring, mode, best, trainer, n_epochs)


def _refit_epochs(refit_epochs, epochs, histories):
    if refit_epochs != "auto":
        if isinstance(refit_epochs, bool) or not isinstance(refit_epochs, (int, np.integer)) or refit_epochs < 1:
            raise ArgumentError(f"search: refit_epochs must be 'auto' or an integer >= 1, got {refit_epochs!r}")
        return int(refit_epochs)
    if any(h.stopped_early for h in histories):
        best = [h.best_epoch + 1 for h in histories if h.best_epoch is not None]
        if best:
            return max(1, int(round(float(np.mean(best)))))
    return epochs


def _plain(value):
    """NumPy scalars from samplers -> Python numbers (clean tables, JSON-able)."""
    return value.item() if isinstance(value, np.generic) else value
