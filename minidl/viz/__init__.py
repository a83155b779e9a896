"""Seeing inside: the autograd graph, the backward trace, training plots, and activation and gradient monitors."""

from minidl.viz.graph import build_graph, draw_graph, to_dot
from minidl.viz.monitor import ActivationStats, GradientStats, Monitor
from minidl.viz.plots import (kernel_grid, plot_activation_histograms, plot_confusion_matrix, plot_gradient_histograms,
                              plot_gradient_norms, plot_history, plot_kernels, plot_lr, plot_roc)
from minidl.viz.trace import TraceRecord, format_trace, trace

__all__ = ["ActivationStats", "GradientStats", "Monitor", "TraceRecord", "build_graph", "draw_graph", "format_trace",
           "kernel_grid", "plot_activation_histograms", "plot_confusion_matrix", "plot_gradient_histograms",
           "plot_gradient_norms", "plot_history", "plot_kernels", "plot_lr", "plot_roc", "to_dot", "trace"]
