"""minidl: a small deep-learning engine on NumPy (CPU) and CuPy (GPU), written to be read.

    import minidl as mdl
    x = mdl.tensor([[1.0, 2.0]], requires_grad=True)
    y = (x * x).sum()
    y.backward()          # x.grad == 2 * x
"""

from minidl import autograd  # noqa: F401  (first: tensor.py builds on it)
from minidl.tensor import Tensor
from minidl.autograd import Function, enable_grad, is_grad_enabled, no_grad
from minidl.backend import get_backend as backend
from minidl.backend.denormals import set_flush_denormal
from minidl.creation import (arange, bool_, eye, float32, float64, full, int64, ones, ones_like, rand, randn,
                             tensor, zeros, zeros_like)
from minidl.anomaly import detect_anomaly
from minidl.errors import (AnomalyError, ArgumentError, ArgumentTypeError, DeviceError, DTypeError, GradcheckError,
                           GraphError, MinidlError, SerializationError, ShapeError)
from minidl.ops import (abs, argmax, argmin, clip, concatenate, exp, expand_dims, flatten, leaky_relu, log,
                        log_softmax, logsumexp, matmul, max, maximum, mean, min, minimum, pad, relu, reshape,
                        sigmoid, softmax, sqrt, squeeze, stack, sum, tanh, transpose, var, where)
from minidl.ops import cos, prod, sin  # noqa: E402
from minidl import cuda  # noqa: F401
from minidl.random import manual_seed
from minidl.gradcheck import gradcheck
from minidl.serialization import load, save
from minidl import nn, optim  # noqa: F401,E402  (mdl.nn, mdl.optim after the core)

__version__ = "0.1.0"
