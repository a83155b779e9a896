"""`minidl bench --models gpt`: nanoGPT's CPU-recipe step, its PyTorch twin and its matrix-product count."""

import numpy as np

from minidl import benchmark


def test_gpt_runner_matches_its_torch_twin(torch):
    ours = benchmark.MinidlRunner("gpt", 2)
    theirs = benchmark.TorchRunner("gpt", 2, ours.net)
    assert ours.x.shape == (2, 64) and ours.x.dtype == np.int64
    loss_ours, loss_theirs = ours.loss(), theirs.loss()
    assert abs(loss_ours.item() - loss_theirs.item()) < 1e-4
    loss_ours.backward()
    loss_theirs.backward()
    ours_grads = dict(ours.net.named_parameters())
    for name, p in theirs.net.named_parameters():
        np.testing.assert_allclose(ours_grads[name].grad.numpy(), p.grad.numpy(), rtol=1e-3, atol=1e-5, err_msg=name)


def test_gpt_flops_by_hand():
    # per token and layer: q, k, v, output projection (4 C²) and the MLP (8 C²), attention 2 T C; head C V
    per_token = 4 * (12 * 128 * 128 + 2 * 64 * 128) + 128 * 65
    assert benchmark.matmul_flops("gpt", 12, training=False) == 2 * 12 * 64 * per_token
    assert benchmark.matmul_flops("gpt", 12) == 3 * 2 * 12 * 64 * per_token


def test_a_gpt_bench_run_reports_one_batch_of_12(tmp_path):
    results = benchmark.run(models=("gpt",), batch_sizes=(64, 256), rounds=1, block=0.001,
                            backends=[("minidl", "cpu")], log=lambda line: None)
    assert [(e["model"], e["batch"]) for e in results["runs"]] == [("gpt", 12)]
    assert results["runs"][0]["ms_per_step"] > 0
