"""`minidl.nn.functional` (F): the stateless functions behind the layers and losses.

Each is a differentiable op from `minidl.ops` or a short composition of them.
"""

from minidl.errors import ArgumentError
from minidl import ops
from minidl.ops import leaky_relu, log_softmax, relu, sigmoid, softmax, tanh  # noqa: F401
from minidl.ops.matmul import linear  # noqa: F401  (y = x @ weightᵀ + bias, one fused node for x (..., in))
# the ops behind the layers and losses (convolution, pooling, normalisation, dropout, losses)
from minidl.ops.conv import conv2d  # noqa: F401
from minidl.ops.conv_pool import conv2d_relu_max_pool2d  # noqa: F401
from minidl.ops.dropout import dropout  # noqa: F401
from minidl.ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,  # noqa: F401
                             huber_loss, l1_loss, mse_loss, nll_loss, one_hot)
from minidl.ops.normalization import batch_norm  # noqa: F401
from minidl.ops.pooling import avg_pool2d, max_pool2d, relu_max_pool2d  # noqa: F401
# the ops behind the sequence layers (embedding, layer norm, GELU, attention)
from minidl.ops.attention import scaled_dot_product_attention  # noqa: F401
from minidl.ops.embedding import embedding  # noqa: F401
from minidl.ops.gelu import gelu  # noqa: F401
from minidl.ops.layer_norm import layer_norm  # noqa: F401
from minidl.ops.self_attention import self_attention  # noqa: F401


def l1_penalty(parameters):
    """Σ |w| over the given parameters (add λ·l1_penalty(model.parameters()) to a loss)."""
    return _sum_over(parameters, lambda w: ops.abs(w).sum())  # ops: Tensors or arrays (constants) alike


def l2_penalty(parameters):
    """Σ w² over the given parameters (λ·l2_penalty gives the same gradient as weight_decay = 2λ)."""
    return _sum_over(parameters, lambda w: ops.mul(w, w).sum())


def _sum_over(parameters, term):
    total = None
    for w in parameters:
        total = term(w) if total is None else total + term(w)
    if total is None:
        raise ArgumentError("penalty over an empty list of parameters")
    return total
