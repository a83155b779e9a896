"""Graph semantics of the backward engine: accumulation, no_grad, freeing, depth, retain_grad, errors."""

import gc
import weakref

import numpy as np
import pytest

import minidl as mdl
from minidl.autograd import Function


def leaf(values, device="cpu", dtype=mdl.float64):
    return mdl.tensor(values, dtype=dtype, device=device, requires_grad=True)


def test_tensor_used_twice_gets_the_summed_gradient(device):
    x = leaf([1.0, 2.0, 3.0], device)
    y = (x * x + x * 3.0).sum()  # dy/dx = 2x + 3
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1.0, 2.0, 3.0]) + 3)


def test_diamond_graph_runs_each_node_once(device):
    calls = []

    class Spy(Function):
        def forward(self, x):
            return x * 1

        def backward(self, gy):
            calls.append(1)
            return gy

    x = leaf([1.0, 2.0], device)
    h = Spy()(x)
    (h * 2 + h * 3).sum().backward()  # h feeds two branches; its backward must run once
    assert len(calls) == 1
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 5.0])


def test_gradients_accumulate_across_backward_calls_until_cleared():
    x = leaf([1.0, 2.0])
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 5.0])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_no_grad_builds_no_graph_and_enable_grad_restores_it():
    x = leaf([1.0, 2.0])
    with mdl.no_grad():
        y = x * 2
        with mdl.enable_grad():
            z = x * 2
    assert y.grad_fn is None and not y.requires_grad
    assert z.grad_fn is not None and z.requires_grad
    assert mdl.is_grad_enabled()


def test_no_grad_works_as_a_decorator():
    @mdl.no_grad()
    def double(t):
        return t * 2

    assert double(leaf([1.0])).grad_fn is None


def test_second_backward_on_a_freed_graph_raises_a_clear_error():
    x = leaf([1.0, 2.0])
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(mdl.GraphError, match="second time"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.exp([1.0, 2.0]))


def test_deep_chain_of_ten_thousand_ops_backpropagates_without_recursion_error():
    x = leaf([0.5])
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 10_000], rtol=1e-9)


def test_intermediate_arrays_are_freed_after_backward():
    x = leaf(np.random.default_rng(0).standard_normal(100))
    hidden = x.exp()
    probe = weakref.ref(hidden.data)
    loss = (hidden * 2.0).sum()
    del hidden
    gc.collect()
    assert probe() is not None  # the graph keeps it for backward ...
    loss.backward()
    gc.collect()
    assert probe() is None  # ... and lets it go afterwards


def test_intermediate_grad_is_kept_only_with_retain_grad():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    k = x * 4.0
    k.retain_grad()
    (h * k).sum().backward()
    assert h.grad is None
    np.testing.assert_allclose(k.grad.numpy(), [3.0, 6.0])  # d(h*k)/dk = h
    assert x.grad is not None


def test_backward_on_leaf_gives_seed():
    x = leaf([2.0])
    x.backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0])


def test_backward_of_non_scalar_without_grad_raises():
    x = leaf([1.0, 2.0])
    with pytest.raises(mdl.GraphError, match=r"single-element.*\(2,\)"):
        (x * 2).backward()


def test_backward_with_explicit_grad_on_non_scalar():
    x = leaf([1.0, 2.0])
    (x * 2).backward(mdl.tensor([10.0, 100.0], dtype=mdl.float64))
    np.testing.assert_allclose(x.grad.numpy(), [20.0, 200.0])


def test_backward_with_grad_of_wrong_shape_raises():
    x = leaf([1.0, 2.0])
    with pytest.raises(mdl.ShapeError, match=r"\(3,\).*\(2,\)"):
        (x * 2).backward(mdl.tensor([1.0, 2.0, 3.0]))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(mdl.GraphError, match="does not require grad"):
        mdl.tensor([1.0]).sum().backward()


def test_leaf_gradients_do_not_share_memory():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()  # Add hands the same array to both inputs
    assert not np.shares_memory(a.grad.data, b.grad.data)
    a.grad.data += 1
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 1.0])


def test_a_leaf_used_many_times_sums_its_gradients_without_touching_earlier_arrays():
    w, c = leaf([1.0, 2.0]), leaf([0.5, -1.0])
    y = w + c  # Add hands the same array to w and to this node: a sum into w.grad must not change it
    for _ in range(5):
        y = y * w  # w used again at every step, as an RNN's weight
    y.sum().backward()
    wv, cv = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    np.testing.assert_allclose(w.grad.numpy(), wv ** 5 + 5 * (wv + cv) * wv ** 4)  # d/dw (w + c) w⁵
    np.testing.assert_allclose(c.grad.numpy(), wv ** 5)
    first = w.grad.data
    kept = first.copy()
    (w * w * w).sum().backward()  # a second backward adds into a new array: the first one is left as it was
    np.testing.assert_array_equal(first, kept)
    np.testing.assert_allclose(w.grad.numpy(), kept + 3 * wv ** 2)
    # w's first gradient is the array Add also hands to u's node, which runs after w's second use
    w.grad = c.grad = None
    u = c * 2.0
    a = w * 3.0
    ((w + u) + a).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [4.0, 4.0])
    np.testing.assert_allclose(c.grad.numpy(), [2.0, 2.0])


def test_leaf_gradients_are_writable_arrays():
    w = leaf(np.ones((2, 3)))
    w.sum().backward()  # Sum's backward broadcasts: a read-only view must not become .grad
    w.grad.data *= 2
    np.testing.assert_allclose(w.grad.numpy(), 2 * np.ones((2, 3)))


def test_engine_rejects_a_backward_with_the_wrong_shape():
    class BadShape(Function):
        def forward(self, x):
            return x * 2

        def backward(self, gy):
            return gy[:1]

    x = leaf([1.0, 2.0])
    with pytest.raises(mdl.ShapeError, match=r"BadShape.*\(1,\).*input 0.*\(2,\)"):
        BadShape()(x).sum().backward()



@pytest.mark.parametrize("same_tensor", [False, True])
def test_engine_names_the_input_whose_gradient_is_wrong(same_tensor):
    class SecondBad(Function):
        def forward(self, a, b):
            return a * b

        def backward(self, gy):
            return gy, gy[:1]  # right for input 0, wrong for input 1

    a = leaf([1.0, 2.0])
    b = a if same_tensor else leaf([3.0, 4.0])
    with pytest.raises(mdl.ShapeError, match=r"SecondBad.*shape \(1,\) for input 1 of shape \(2,\)"):
        SecondBad()(a, b).sum().backward()


def test_engine_rejects_none_for_an_input_that_needs_a_gradient():
    class Forgets(Function):
        def forward(self, a, b):
            return a + b

        def backward(self, gy):
            return gy, None

    with pytest.raises(mdl.GraphError, match="Forgets.backward returned None for input 1"):
        Forgets()(leaf([1.0]), leaf([2.0])).sum().backward()

def test_engine_rejects_a_backward_that_leaks_float64_into_float32():
    class Leaky(Function):
        def forward(self, x):
            return x * 2

        def backward(self, gy):
            return gy * np.float64(2.0)  # a NumPy float64 scalar is strong under NEP 50

    x = leaf([1.0, 2.0], dtype=mdl.float32)
    with pytest.raises(mdl.DTypeError, match=r"Leaky.*float64.*float32"):
        Leaky()(x).sum().backward()


def test_engine_rejects_a_wrong_number_of_gradients():
    class TwoGrads(Function):
        def forward(self, x):
            return x * 2

        def backward(self, gy):
            return gy, gy

    with pytest.raises(mdl.GraphError, match="TwoGrads.*2 gradients for 1 inputs"):
        TwoGrads()(leaf([1.0])).sum().backward()


def test_engine_rejects_a_host_array_gradient_on_the_strict_device():
    class HostLeak(Function):
        def forward(self, x):
            return x * 2

        def backward(self, gy):
            return np.ones(gy.shape)  # a NumPy array for a device input: a device leak

    x = leaf([1.0, 2.0], device="strict")
    with pytest.raises(mdl.DeviceError, match="HostLeak.*strict"):
        HostLeak()(x).sum().backward()


def test_mixing_devices_raises_an_error_naming_both():
    a = leaf([1.0], "cpu")
    b = leaf([1.0], "strict")
    with pytest.raises(mdl.DeviceError, match=r"'cpu'.*'strict'"):
        a + b


def test_to_device_is_differentiable():
    x = leaf([1.0, 2.0], "cpu")
    y = (x.to("strict") * 3.0).sum()
    assert y.device == "strict"
    y.backward()
    assert x.grad.device == "cpu"
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_requires_grad_only_for_floating_tensors():
    with pytest.raises(mdl.DTypeError, match="floating-point"):
        mdl.tensor([1, 2], requires_grad=True)


def test_detach_shares_data_and_leaves_the_graph():
    x = leaf([1.0, 2.0])
    d = (x * 2).detach()
    assert d.grad_fn is None and not d.requires_grad
    assert d.is_leaf


def test_live_tensor_count_returns_to_baseline_after_a_step():
    def count_tensors():
        gc.collect()
        return sum(issubclass(type(o), mdl.Tensor) for o in gc.get_objects())  # type(): no torch deprecation warnings

    w = leaf(np.ones((4, 3)))
    x = mdl.tensor(np.ones((5, 4)), dtype=mdl.float64)
    baseline = None
    for _ in range(3):
        loss = ((x @ w).relu() ** 2).mean()
        loss.backward()
        del loss
        w.grad = None
        now = count_tensors()
        baseline = now if baseline is None else baseline
        assert now == baseline


def test_a_retained_root_gradient_does_not_share_memory_with_a_leaf():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = a + b
    y.retain_grad()
    y.backward(mdl.tensor([1.0, 1.0], dtype=mdl.float64))
    a.grad.data[0] = 5
    np.testing.assert_allclose(y.grad.numpy(), [1.0, 1.0])
