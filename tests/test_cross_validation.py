"""cross_validate, grid_search, random_search (scikit-learn splitters, joblib, optional Dask) and Ensemble."""

import functools
import sys

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn
import minidl.optim as optim
from minidl.data.datasets import load_digits
from minidl.train import (EarlyStopping, Ensemble, Trainer, cross_validate, grid_search, log_uniform, make_folds,
                          random_search)


@functools.lru_cache(maxsize=None)
def _digits():
    X, y = load_digits()
    return X.reshape(len(X), -1), y


def build(lr=1e-2, hidden=16):
    """Module level, so worker processes can unpickle it."""
    model = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))
    return model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=lr)


def build_trainer(lr=1e-2):
    model, loss, opt = build(lr)
    return Trainer(model, loss, opt, metrics=("accuracy",),
                   callbacks=[EarlyStopping(patience=1, restore_best_weights=True)])


def assert_same_cv(a, b):
    assert a.scores == b.scores
    assert [h.history for h in a.histories] == [h.history for h in b.histories]
    for (tr_a, va_a), (tr_b, va_b) in zip(a.folds, b.folds):
        np.testing.assert_array_equal(tr_a, tr_b)
        np.testing.assert_array_equal(va_a, va_b)


def test_digits_k5_folds_are_disjoint_cover_every_sample_and_are_stratified():
    X, y = _digits()
    folds = make_folds(X, y, k=5, seed=0)
    assert len(folds) == 5
    val = np.concatenate([va for _, va in folds])
    assert len(val) == len(X) and set(val.tolist()) == set(range(len(X)))  # disjoint and covering
    for tr, va in folds:
        assert len(np.intersect1d(tr, va)) == 0 and len(tr) + len(va) == len(X)
        share = np.bincount(y[va], minlength=10) / len(va)
        assert np.abs(share - np.bincount(y, minlength=10) / len(y)).max() < 0.01
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, make_folds(X, y, k=5, seed=0)))
    assert not np.array_equal(folds[0][1], make_folds(X, y, k=5, seed=1)[0][1])


def test_cross_validate_digits_k5_same_for_one_and_two_jobs():
    X, y = _digits()
    cv1 = cross_validate(build, X, y, k=5, seed=0, epochs=2, batch_size=64, n_jobs=1)
    cv2 = cross_validate(build, X, y, k=5, seed=0, epochs=2, batch_size=64, n_jobs=2)
    assert_same_cv(cv1, cv2)
    assert set(cv1.scores) == {"val_loss", "val_accuracy"} and all(len(v) == 5 for v in cv1.scores.values())
    assert cv1.mean["val_accuracy"] == pytest.approx(np.mean(cv1.scores["val_accuracy"]))
    assert cv1.std["val_accuracy"] == pytest.approx(np.std(cv1.scores["val_accuracy"]))
    assert cv1.mean["val_accuracy"] > 0.8
    for history, (_, va) in zip(cv1.histories, cv1.folds):
        assert history.epochs == 2 and "val_accuracy" in history
    # each fold's score is its final model's: the last epoch's validation value
    assert cv1.scores["val_loss"] == pytest.approx([h["val_loss"][-1] for h in cv1.histories], rel=1e-6)
    val = np.concatenate([va for _, va in cv1.folds])
    assert sorted(val.tolist()) == list(range(len(X)))
    assert "±" in repr(cv1)


def test_cross_validate_with_a_dask_local_cluster():
    pytest.importorskip("dask.distributed", reason="dask.distributed is not installed "
                                                   "(pip install 'minidl[distributed]': dask, distributed)")
    from dask.distributed import Client, LocalCluster

    X, y = _digits()
    X, y = X[:400], y[:400]
    local = cross_validate(build, X, y, k=3, seed=0, epochs=1, batch_size=64, n_jobs=1)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster):
        remote = cross_validate(build, X, y, k=3, seed=0, epochs=1, batch_size=64, n_jobs=-1, backend="dask")
    assert_same_cv(local, remote)


def test_dask_backend_without_dask_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # as if dask were not installed
    monkeypatch.setitem(sys.modules, "distributed", None)
    X, y = _digits()
    with pytest.raises(ImportError, match="minidl\\[distributed\\]"):
        cross_validate(build, X[:100], y[:100], k=2, epochs=1, backend="dask")


def test_grid_search_picks_the_best_mean_cv_score_and_refits():
    X, y = _digits()
    X, y = X[:600], y[:600]
    search = grid_search(build, {"lr": [1e-4, 1e-3, 1e-2]}, X, y, k=3, scoring="val_accuracy", seed=0, epochs=3,
                         batch_size=32, n_jobs=2)
    means = [row["mean_val_accuracy"] for row in search.results]
    assert [row["lr"] for row in search.results] == [1e-4, 1e-3, 1e-2]
    assert search.best_index == int(np.argmax(means))
    assert search.best_params == {"lr": search.results[search.best_index]["lr"]} == {"lr": 1e-2}
    assert search.best_score == max(means)
    assert [row["rank_val_accuracy"] for row in search.results] == [3, 2, 1]
    for row in search.results:
        assert set(row) >= {"mean_val_loss", "std_val_loss", "std_val_accuracy", "split0_val_accuracy"}
        assert all(np.isscalar(v) for v in row.values())  # a table pandas.DataFrame(results) accepts
    # the refitted model: trained on all of X, y for `epochs`, no validation data
    assert isinstance(search.best_model, nn.Module)
    h = search.best_trainer.history
    assert h.epochs == 3 and "val_loss" not in h
    assert search.best_trainer.evaluate((X, y))["accuracy"] > 0.9
    # the same folds for every candidate; candidates agree with a direct cross_validate
    cv = cross_validate(build, X, y, k=3, seed=0, epochs=3, batch_size=32, params={"lr": 1e-3})
    assert cv.scores == search.cv_results[1].scores


def test_grid_search_by_loss_and_results_as_dataframe():
    X, y = _digits()
    search = grid_search(build, {"lr": [1e-4, 1e-2], "hidden": [8]}, X[:300], y[:300], k=2, seed=0, epochs=2,
                         refit=False)
    assert search.scoring == "val_loss" and search.mode == "min"
    assert search.best_score == min(row["mean_val_loss"] for row in search.results)
    assert search.best_model is None
    with pytest.raises(ValueError, match="scoring='val_f1'.*available"):
        grid_search(build, {"lr": [1e-3]}, X[:100], y[:100], k=2, scoring="f1", epochs=1, refit=False)
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(search.results)
    assert list(frame["lr"]) == [1e-4, 1e-2]


def test_random_search_samples_rates_log_uniformly_and_is_repeatable():
    X, y = _digits()
    X, y = X[:200], y[:200]
    dist = {"lr": log_uniform(1e-4, 1e-1), "hidden": [8, 16]}
    a = random_search(build, dist, X, y, n_iter=3, k=2, seed=0, epochs=1, refit=False)
    b = random_search(build, dist, X, y, n_iter=3, k=2, seed=0, epochs=1, refit=False)
    assert a.results == b.results
    lrs = [row["lr"] for row in a.results]
    assert all(1e-4 <= lr <= 1e-1 for lr in lrs) and len(set(lrs)) == 3
    samples = log_uniform(1e-4, 1e-1).rvs(4000, random_state=0)
    counts = np.histogram(np.log10(samples), bins=3, range=(-4, -1))[0]
    assert counts.min() > 1150  # each decade about a third
    with pytest.raises(ValueError, match="0 < low < high"):
        log_uniform(0, 1)


def test_search_with_trainer_builds_and_early_stopping_refits_for_the_folds_best_epochs():
    X, y = _digits()
    X, y = X[:300], y[:300]
    search = grid_search(build_trainer, {"lr": [5e-2]}, X, y, k=2, seed=0, epochs=30, batch_size=16)
    histories = search.cv_results[0].histories
    assert any(h.stopped_early for h in histories)
    assert search.refit_epochs == round(np.mean([h.best_epoch + 1 for h in histories]))
    assert search.best_trainer.history.epochs == search.refit_epochs


def test_cross_validate_bad_inputs():
    X, y = _digits()
    with pytest.raises(ValueError, match="X has 100 samples but y has 99"):
        cross_validate(build, X[:100], y[:99], k=2, epochs=1)
    with pytest.raises(ValueError, match="k must be an integer >= 2"):
        cross_validate(build, X[:100], y[:100], k=1, epochs=1)
    with pytest.raises(TypeError, match="must return \\(model, loss_fn, optimizer\\) or a Trainer"):
        cross_validate(lambda: nn.Linear(64, 10), X[:100], y[:100], k=2, epochs=1)


def test_regression_targets_use_plain_kfold():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3)).astype(np.float32)
    y = rng.normal(size=50).astype(np.float32)
    folds = make_folds(X, y, k=5, seed=0)
    assert sorted(np.concatenate([va for _, va in folds]).tolist()) == list(range(50))


def test_ensemble_averages_predicted_probabilities():
    X, y = _digits()
    models = []
    for seed in range(3):
        mdl.manual_seed(seed)
        model, loss, opt = build(lr=1e-2)
        Trainer(model, loss, opt, progress=False).fit((X[:500], y[:500]), epochs=2, seed=seed)
        models.append(model)
    ens = Ensemble(models)
    x = X[500:600]
    probs = [mdl.softmax(m(mdl.tensor(x)), axis=-1).numpy() for m in models]
    np.testing.assert_allclose(ens.predict_proba(x), np.mean(probs, axis=0), rtol=1e-6)
    np.testing.assert_array_equal(ens.predict(x), np.mean(probs, axis=0).argmax(axis=1))
    # ens(x) is log of the mean: its softmax gives the mean back, so losses and metrics work on it
    np.testing.assert_allclose(mdl.softmax(ens(mdl.tensor(x)), axis=-1).numpy(), np.mean(probs, axis=0),
                               rtol=1e-5, atol=1e-7)
    result = Trainer(ens, nn.CrossEntropyLoss(), optim.SGD(ens.parameters(), lr=0.0),
                     progress=False).evaluate((x, y[500:600]))
    assert result["accuracy"] == float(np.mean(ens.predict(x) == y[500:600]))
    weighted = Ensemble(models, weights=[1, 0, 0])
    np.testing.assert_allclose(weighted.predict_proba(x), probs[0], rtol=1e-6)
    with pytest.raises(ValueError):
        Ensemble([])
