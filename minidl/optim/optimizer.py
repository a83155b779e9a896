"""`Optimizer`: the base class of every optimizer (param groups, per-parameter state, state dicts).

An optimizer holds `param_groups`, a list of dicts: each has "params" (a list of Parameters) and the
hyper-parameters of that group ("lr", "momentum", ...). Groups let one model train with several
settings, e.g. smaller learning rates for the early layers when fine-tuning:

    opt = SGD([{"params": backbone_params, "lr": 1e-4},
               {"params": head_params}], lr=1e-2, momentum=0.9)   # head uses the default 1e-2

`state[p]` is the per-parameter state (step count, momentum buffer, moment estimates), created on the
first step that updates `p`. `step()` updates every parameter that requires grad and has a gradient,
in place on `p.data`; frozen parameters (`requires_grad=False`) and those without `.grad` are skipped.

`state_dict()` uses PyTorch's layout, with parameters named by their position across the groups:
    {"state": {0: {"step": 3, "exp_avg": array, ...}, ...},
     "param_groups": [{"lr": 0.01, ..., "params": [0, 1]}, {"lr": 0.1, ..., "params": [2, 3]}]}
"""

import math
import numbers
from collections import defaultdict
from contextlib import nullcontext

from minidl.autograd import enable_grad
from minidl.errors import ArgumentError, ArgumentTypeError, DeviceError, DTypeError, ShapeError
from minidl.ops.fast import fast_paths_enabled
from minidl.tensor import Tensor


class Optimizer:
    """Base class: subclasses set `defaults` and implement `_init_state` and `_update`.

    Args:
        params:   an iterable of Parameters, or of dicts (param groups) each with a "params" entry
        defaults: the hyper-parameters a group gets for every key it does not set itself
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self._check_hyperparameters(self.defaults, "")
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise ArgumentTypeError(f"{type(self).__name__}: params should be an iterable of Parameters or of dicts "
                                    f"(param groups), got a single Tensor; wrap it in a list: [param]")
        if isinstance(params, dict):
            params = [params]
        groups = list(params)
        if not groups:
            raise ArgumentError(f"{type(self).__name__} got an empty parameter list: pass model.parameters() "
                                f"or a list of param-group dicts")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # -- parameter groups --------------------------------------------------------------------------------
    def add_param_group(self, param_group):
        """Add a group of parameters with its own hyper-parameters (missing ones come from the defaults).

        Typical use: unfreeze more layers while fine-tuning, with a smaller learning rate.
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise ArgumentTypeError(f"{name}.add_param_group expects a dict like {{'params': [...], 'lr': 0.01}}, "
                                    f"got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ArgumentError(f"{name}: a param group needs a 'params' entry (the list of Parameters); "
                                f"its keys are {sorted(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise ArgumentTypeError(f"{name}: a param group's 'params' must be an ordered sequence (a list), not a "
                                    f"set: the order of parameters is what names them in state_dict()")
        else:
            params = list(params)
        index = len(self.param_groups)
        seen = set()
        for p in params:
            if not isinstance(p, Tensor):
                raise ArgumentTypeError(f"{name}: param group {index} holds a {type(p).__name__}; an optimizer "
                                        f"updates Tensors (Parameters) only")
            if not p.is_leaf:
                raise ArgumentError(f"{name}: param group {index} holds a non-leaf tensor (the result of an "
                                    f"operation, grad_fn={p.grad_fn.name}); optimize the leaf Parameters")
            if id(p) in seen:
                raise ArgumentError(f"{name}: param group {index} lists a parameter of shape {p.shape} twice; "
                                    f"it would be updated twice per step")
            seen.add(id(p))
        for i, other in enumerate(self.param_groups):
            if any(id(q) in seen for q in other["params"]):
                raise ArgumentError(f"{name}: the new param group shares parameters with param group {i}; each "
                                    f"parameter may belong to one group only")
        group = {"params": params}
        for key, value in param_group.items():
            if key != "params":
                group[key] = value
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._check_hyperparameters(group, f" (param group {index})")
        self.param_groups.append(group)

    def _check_hyperparameters(self, group, where):
        """Raise ArgumentError for a hyper-parameter outside its allowed range; `where` names the group."""

    # -- the update ---------------------------------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Forget the gradients of every parameter (`p.grad = None`, PyTorch's default).

        With `set_to_none=False` each gradient becomes a new zero array instead (the old array is
        not written to: it may be shared).
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad = Tensor._make(p.backend.xp.zeros_like(p.grad.data), p.backend, False, None)

    def step(self, closure=None):
        """Update every parameter that requires grad and has a gradient; return `closure()`'s loss.

        Each gradient must be a Tensor with its parameter's shape, dtype and device, else a ShapeError,
        DTypeError or DeviceError names the parameter, raised before any parameter is updated.

        `closure`, when given, re-evaluates the model and returns the loss (it runs with grad enabled).
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        updates = []  # every gradient is checked before any parameter changes: a bad one leaves the model as it was
        for g, group in enumerate(self.param_groups):
            for i, p in enumerate(group["params"]):
                grad = p.grad
                if grad is None or not p.requires_grad:
                    continue
                if not (isinstance(grad, Tensor) and grad._backend is p._backend  # a few hundred ns
                        and grad.data.shape == p.data.shape and grad.data.dtype == p.data.dtype):
                    self._bad_gradient(p, grad, g, i)
                updates.append((p, grad.data, group))
        if not updates:
            return loss
        fast = self._fast_sibling()
        update = fast or self._update
        with updates[0][0]._backend.in_place_updates() if fast else nullcontext():  # for the siblings' BLAS calls
            for p, grad, group in updates:
                state = self.state[p]
                if not state:
                    self._init_state(p, state, group)
                update(p, grad, state, group)
        return loss

    _fast_update = None  # a subclass's fast sibling of `_update` (minidl/optim/fast.py), if it has one

    def _fast_sibling(self):
        """THE one place that chooses how parameters are updated: the class's fast sibling
        (`_fast_update`, optim/fast.py) when fast paths are on; None, and `step` runs the reference
        `_update`, when they are off or the class has none.

        Only a class that sets `_fast_update` itself gets one: a user's subclass that rewrites `_update`
        runs its own code, never its parent's fast sibling."""
        if _use_fast() and type(self).__dict__.get("_fast_update") is not None:
            return self._fast_update
        return None

    def _bad_gradient(self, p, grad, group_index, index):
        """Raise the error that says how `grad` does not fit `p`, parameter `index` of group `group_index`."""
        where = f"{type(self).__name__}.step: the gradient of parameter {index} of param group {group_index}"
        if not isinstance(grad, Tensor):
            raise ArgumentTypeError(f"{where} is of type {type(grad).__name__}, not a Tensor")
        if grad.shape != p.shape:
            raise ShapeError(f"{where} has shape {grad.shape}, but the parameter has shape {p.shape}")
        if grad.dtype != p.dtype:
            raise DTypeError(f"{where} (shape {p.shape}) is {grad.dtype}, but the parameter is {p.dtype}; a "
                             f"gradient must have its parameter's dtype (convert it with .astype('{p.dtype}'))")
        raise DeviceError(f"{where} (shape {p.shape}) is on '{grad.device}', but the parameter is on '{p.device}'")

    def _init_state(self, p, state, group):
        """Fill the empty `state` dict of parameter `p` before its first update."""

    def _update(self, p, grad, state, group):
        """Update `p.data` in place from the gradient array `grad` (never written to).

        Read hyper-parameters as `float(group[key])`: Python floats are weak scalars for NumPy 2 and
        CuPy, so a float32 parameter stays float32 even when a user passed `np.float64(0.1)`.
        """
        raise NotImplementedError

    # -- saving and restoring -------------------------------------------------------------------------------
    def state_dict(self):
        """A snapshot of the optimizer: {"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}.

        Parameters are named by their position across the groups (0, 1, ... in group order); arrays
        are copies on the parameters' device (`mdl.save` moves them to the host).
        """
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {}
        for p, p_state in self.state.items():
            if id(p) in index and p_state:
                state[index[id(p)]] = {key: _copy_value(p, value) for key, value in p_state.items()}
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore what `state_dict()` returned (possibly through `mdl.save`/`mdl.load`).

        The groups must match this optimizer's in number and size; hyper-parameters come from the saved
        groups, the parameters stay this optimizer's. State arrays move onto each parameter's device and
        floating ones take its dtype. Nothing changes unless the whole state dict is valid.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict):
            raise ArgumentTypeError(f"{name}.load_state_dict expects the dict that state_dict() returns, got "
                                    f"{_describe(state_dict)}")
        if "state" not in state_dict or "param_groups" not in state_dict:
            raise ArgumentError(f"{name}.load_state_dict expects the dict that state_dict() returns, with keys "
                                f"'state' and 'param_groups'; got {_describe(state_dict)}")
        saved_groups = list(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ArgumentError(f"{name}.load_state_dict: the state dict has {len(saved_groups)} parameter group(s), "
                                f"this optimizer has {len(self.param_groups)}")
        by_index = {}
        new_groups = []
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            saved_params = list(saved["params"])
            if len(saved_params) != len(group["params"]):
                raise ArgumentError(f"{name}.load_state_dict: parameter group {i} has {len(saved_params)} "
                                    f"parameter(s) in the state dict and {len(group['params'])} in this optimizer")
            for saved_index, p in zip(saved_params, group["params"]):
                by_index[int(saved_index)] = p
            new_group = {key: value for key, value in group.items()}
            for key, value in saved.items():
                if key != "params":
                    new_group[key] = tuple(value) if key == "betas" else value
            self._check_hyperparameters(new_group, f" (loaded param group {i})")
            new_groups.append(new_group)
        new_state = defaultdict(dict)
        for key, saved_state in state_dict["state"].items():
            k = int(key)
            if k not in by_index:
                raise ArgumentError(f"{name}.load_state_dict: the state dict has state for parameter {k}, which none "
                                    f"of its param groups lists (they list {sorted(by_index)})")
            p = by_index[k]
            new_state[p] = {field: _restore_value(p, k, field, value) for field, value in saved_state.items()}
        self.param_groups = new_groups
        self.state = new_state

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


# -- helpers for subclasses ---------------------------------------------------------------------------------
def _use_fast():
    """Whether optimizers take their fast siblings (optim/fast.py) instead of the reference `_update`:
    the one switch of every fast path, `mdl.use_fast_paths(False)` / `with mdl.fast_paths(False):`."""
    return fast_paths_enabled()


def with_weight_decay(p, grad, weight_decay):
    """d = g + weight_decay·p (L2 regularisation in the gradient) as a new array, or g itself when
    weight_decay is 0. The gradient array is never written to; out= keeps a 0-d result an array."""
    if weight_decay == 0:
        return grad
    xp = p.backend.xp
    return xp.add(grad, weight_decay * p.data, out=xp.empty_like(p.data))


def zeros_state(state, key, p):
    """state[key], created as zeros of p's shape, dtype and device when missing (an option such as
    amsgrad, centered or momentum switched on after the first step)."""
    if key not in state:
        state[key] = p.backend.xp.zeros_like(p.data)
    return state[key]


def check_nonnegative(group, key, where, owner):
    """ArgumentError unless group[key] is a number >= 0 (NaN is rejected too)."""
    value = group[key]
    if not _is_real(value) or not 0.0 <= value:
        raise ArgumentError(f"{owner}: {key} must be a number >= 0, got {value!r}{where}")


def check_betas(group, where, owner):
    """ArgumentError unless group['betas'] is a pair of numbers in [0, 1)."""
    betas = group["betas"]
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ArgumentError(f"{owner}: betas must be a pair (beta1, beta2), got {betas!r}{where}")
    for i, beta in enumerate(betas):
        if not _is_real(beta) or not 0.0 <= beta < 1.0:
            raise ArgumentError(f"{owner}: betas[{i}] must be in [0, 1), got {beta!r}{where}")


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and not math.isnan(value)


def _copy_value(p, value):
    return value.copy() if p.backend.is_array(value) else value


def _restore_value(p, index, field, value):
    """A saved state entry for parameter `p`: arrays onto p's device (floating ones in p's dtype)."""
    if field == "step":
        return int(value)
    if not hasattr(value, "shape") or not hasattr(value, "dtype"):
        return value
    array = p.backend.asarray(value)
    if array.shape != p.shape:
        raise ShapeError(f"load_state_dict: state {field!r} of parameter {index} has shape {array.shape}, "
                         f"but that parameter has shape {p.shape}")
    if array.dtype.kind == "f":  # a new array in p's dtype and memory order (never the loaded dict's storage)
        restored = p.backend.xp.empty_like(p.data)
        restored[...] = array
        return restored
    return array.copy() if array is value else array


def _describe(obj):
    if isinstance(obj, dict):
        return f"a dict with keys {sorted(map(str, obj))}"
    return f"a {type(obj).__name__}"
