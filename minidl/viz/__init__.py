"""Seeing inside: the autograd graph, the backward trace, and training plots."""

from minidl.viz.graph import build_graph, draw_graph, to_dot
from minidl.viz.trace import TraceRecord, format_trace, trace
