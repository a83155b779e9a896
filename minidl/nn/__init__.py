"""`minidl.nn`: Module, layers, losses, initialisation (PyTorch's names and numerics)."""

from minidl.nn import functional, init, utils  # noqa: F401
from minidl.nn.activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from minidl.nn.attention import MultiheadAttention
from minidl.nn.containers import ModuleDict, ModuleList, Sequential
from minidl.nn.conv import Conv2d
from minidl.nn.dropout import Dropout
from minidl.nn.embedding import Embedding
from minidl.nn.layer_norm import LayerNorm
from minidl.nn.linear import Flatten, Identity, Linear
from minidl.nn.loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss, NLLLoss
from minidl.nn.module import Module
from minidl.nn.normalization import BatchNorm1d, BatchNorm2d
from minidl.nn.parameter import Parameter
from minidl.nn.pooling import AvgPool2d, MaxPool2d
from minidl.nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
