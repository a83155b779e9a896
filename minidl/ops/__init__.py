"""Differentiable primitives, one family per file; each op's forward and backward sit together."""

from minidl.ops.activation import leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from minidl.ops.elementwise import (abs, add, clip, div, equal, exp, greater, greater_equal, less, less_equal,
                                    log, maximum, minimum, mul, neg, not_equal, pow, sqrt, sub, where)
from minidl.ops.matmul import matmul
from minidl.ops.reduction import argmax, argmin, logsumexp, max, mean, min, sum, var
from minidl.ops.shape import (astype, concatenate, expand_dims, flatten, getitem, pad, reshape, squeeze, stack,
                              to_device, transpose)
from minidl.ops.trigonometry import cos, sin
from minidl.ops.product import prod
from minidl.ops.gelu import gelu
from minidl.ops.layer_norm import layer_norm
from minidl.ops.embedding import embedding
from minidl.ops.attention import scaled_dot_product_attention
from minidl.ops.self_attention import self_attention
