"""PyTorch habits (dim=, keepdim=, .view, .unsqueeze, .permute, mdl.cat) get a message naming NumPy's spelling,
which minidl uses (API.md); the aliases are not accepted."""

import pytest

import minidl as mdl
import minidl.nn.functional as F


@pytest.mark.parametrize("call, expected", [
    (lambda t: t.sum(dim=1), "dim= is axis="),
    (lambda t: t.mean(dim=0, keepdim=True), "keepdim= is keepdims="),
    (lambda t: t.max(dim=1), "dim= is axis="),
    (lambda t: t.argmax(dim=1), "dim= is axis="),
    (lambda t: t.var(dim=0), "dim= is axis="),
    (lambda t: t.softmax(dim=1), "dim= is axis="),
    (lambda t: t.squeeze(dim=0), "dim= is axis="),
    (lambda t: F.softmax(t, dim=1), "dim= is axis="),
    (lambda t: F.log_softmax(t, dim=-1), "dim= is axis="),
])
def test_torch_keywords_name_numpys(call, expected):
    with pytest.raises(TypeError, match=expected):
        call(mdl.ones(2, 3))


@pytest.mark.parametrize("name, numpy_name", [("view", "reshape"), ("unsqueeze", "expand_dims"),
                                              ("permute", "transpose")])
def test_torch_methods_name_numpys(name, numpy_name):
    t = mdl.ones(2, 3)
    with pytest.raises(AttributeError, match=f"no attribute '{name}'.*{numpy_name}"):
        getattr(t, name)
    assert not hasattr(t, name) and hasattr(t, numpy_name)  # hasattr still works: the error is an AttributeError


def test_torch_cat_names_concatenate():
    with pytest.raises(AttributeError, match="no attribute 'cat'.*concatenate"):
        mdl.cat([mdl.ones(2), mdl.ones(2)])
    with pytest.raises(AttributeError, match="no attribute 'no_such_thing'$"):
        mdl.no_such_thing


def test_the_numpy_spellings_work():
    t = mdl.ones(2, 3)
    assert t.sum(axis=1, keepdims=True).shape == (2, 1) and F.softmax(t, axis=1).shape == (2, 3)
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        t.sum(axes=1)
