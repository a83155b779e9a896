"""nn.Module's contract: registration order, state_dict keys, load_state_dict checks, modes, devices,
hooks and summary (Keras' parameter counts)."""

import numpy as np
import pytest

import minidl as mdl
import minidl.nn as nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.scale = nn.Parameter(mdl.ones(1))

    def forward(self, x):
        return self.bn(self.fc(x)) * self.scale


def test_parameters_buffers_and_modules_keep_insertion_order():
    model = nn.Sequential(Block(), nn.ReLU(), nn.Linear(4, 2))
    names = [n for n, _ in model.named_parameters()]
    assert names == ["0.scale", "0.fc.weight", "0.fc.bias", "0.bn.weight", "0.bn.bias", "2.weight", "2.bias"]
    assert [n for n, _ in model.named_buffers()] == ["0.bn.running_mean", "0.bn.running_var",
                                                      "0.bn.num_batches_tracked"]
    assert [type(m).__name__ for m in model.children()] == ["Block", "ReLU", "Linear"]
    assert len(list(model.modules())) == 6


def test_own_parameters_come_before_submodules_as_in_pytorch(torch):
    class TorchBlock(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(3, 4)
            self.bn = torch.nn.BatchNorm1d(4)
            self.scale = torch.nn.Parameter(torch.ones(1))

    assert [n for n, _ in Block().named_parameters()] == [n for n, _ in TorchBlock().named_parameters()]
    assert list(Block().state_dict()) == list(TorchBlock().state_dict())


def test_state_dict_keys_match_pytorch(torch):
    ours = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(),
                                 torch.nn.Linear(4, 2))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert ours.state_dict()[key].shape == tuple(value.shape)


def test_load_state_dict_copies_values_in_place():
    a, b = nn.Linear(3, 2), nn.Linear(3, 2)
    weight_before = b.weight
    b.load_state_dict(a.state_dict())
    assert b.weight is weight_before
    np.testing.assert_array_equal(b.weight.numpy(), a.weight.numpy())
    np.testing.assert_array_equal(b.bias.numpy(), a.bias.numpy())


def test_load_state_dict_reports_missing_unexpected_and_shape_mismatch():
    model = nn.Sequential(nn.Linear(3, 2))
    state = {"0.weight": np.zeros((2, 5)), "0.extra": np.zeros(1)}
    with pytest.raises(mdl.ShapeError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    assert "0.weight: the file has shape (2, 5), this model has (2, 3)" in message
    assert "missing keys: ['0.bias']" in message
    assert "unexpected keys: ['0.extra']" in message


def test_load_state_dict_non_strict_returns_the_key_lists():
    model = nn.Sequential(nn.Linear(3, 2))
    result = model.load_state_dict({"0.weight": np.ones((2, 3)), "other": np.ones(1)}, strict=False)
    assert result.missing_keys == ["0.bias"] and result.unexpected_keys == ["other"]
    np.testing.assert_array_equal(model[0].weight.numpy(), np.ones((2, 3)))


def test_train_and_eval_reach_every_submodule():
    model = nn.Sequential(Block(), nn.Dropout(0.5))
    model.eval()
    assert all(not m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_zero_grad_clears_every_gradient():
    model = nn.Sequential(nn.Linear(3, 2))
    model(mdl.ones(4, 3)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_to_moves_parameters_and_buffers_in_place():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    params = list(model.parameters())
    model.to("strict")
    assert list(model.parameters()) == params  # the same Parameter objects (optimizers keep them)
    assert all(t.device == "strict" for t in list(model.parameters()) + list(model.buffers()))
    out = model(mdl.ones(4, 3, device="strict"))
    assert out.device == "strict"


def test_astype_float64():
    model = nn.Linear(3, 2).astype(mdl.float64)
    assert model.weight.dtype == np.float64
    assert model(mdl.ones(1, 3, dtype=mdl.float64)).dtype == np.float64


def test_forward_hook_sees_inputs_and_output_and_can_be_removed():
    layer = nn.Linear(3, 2)
    seen = []
    handle = layer.register_forward_hook(lambda m, inputs, out: seen.append((m, inputs[0].shape, out.shape)))
    layer(mdl.ones(4, 3))
    assert seen == [(layer, (4, 3), (4, 2))]
    handle.remove()
    layer(mdl.ones(4, 3))
    assert len(seen) == 1


def test_assigning_a_tensor_to_a_parameter_name_is_refused():
    layer = nn.Linear(3, 2)
    with pytest.raises(TypeError, match="Linear.weight is a parameter"):
        layer.weight = mdl.ones(2, 3)


def test_summary_counts_like_keras():
    sizes = [784, 100, 50, 50, 25, 25, 10]
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        layers += [nn.Linear(n_in, n_out)] + ([nn.ReLU()] if i < len(sizes) - 2 else [])
    text = nn.Sequential(*layers).summary((784,))
    assert "Total params: 88,285" in text
    assert "(None, 100)" in text and "78,500" in text
    small = nn.Sequential(nn.Linear(7, 4), nn.ReLU(), nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1))
    assert "Total params: 51" in small.summary((7,))


def test_summary_of_a_cnn_lists_output_shapes():
    model = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(6 * 12 * 12, 10))
    text = model.summary((1, 28, 28))
    assert "(None, 6, 24, 24)" in text and "(None, 6, 12, 12)" in text and "(None, 864)" in text
    assert f"Total params: {6 * 25 + 6 + 864 * 10 + 10:,}" in text


def test_linear_fed_the_wrong_width_names_the_layer_and_both_sizes():
    with pytest.raises(mdl.ShapeError, match=r"Linear\(in_features=4.*\(2, 5\).*5 features instead of 4"):
        nn.Linear(4, 3)(mdl.ones(2, 5))


def test_conv2d_fed_the_wrong_channels_names_the_layer_and_both_sizes():
    with pytest.raises(mdl.ShapeError, match=r"Conv2d\(3, 8.*\(2, 1, 8, 8\).*1 channel\(s\) instead of 3"):
        nn.Conv2d(3, 8, 3)(mdl.ones(2, 1, 8, 8))


def test_repr_nests_like_pytorch():
    text = repr(nn.Sequential(nn.Linear(2, 3), nn.ReLU()))
    assert text == "Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n  (1): ReLU()\n)"
