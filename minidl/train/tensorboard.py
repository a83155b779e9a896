"""`TensorBoardLogger`: training curves and weight/gradient histograms in TensorBoard (Keras's TensorBoard callback).

    from minidl.train import Trainer, TensorBoardLogger
    trainer = Trainer(model, loss_fn, optimizer, callbacks=[TensorBoardLogger("runs/mlp", histogram_freq=5)])
    trainer.fit((X, y), val=(X_val, y_val), epochs=50)
    # then: tensorboard --logdir runs

As Keras does, training and validation go to two runs, `log_dir/train` and `log_dir/validation`, under the
same tags, so TensorBoard draws them on one chart: every epoch `epoch_loss`, `epoch_<metric>` (and
`epoch_learning_rate`, `epoch_penalty` in train), at step = the 0-based epoch. Every `histogram_freq` epochs
(epochs 0, N, 2N, …; 0: never) the train run also gets `weights/<name>` and `gradients/<name>` histograms
(the gradients of the epoch's last batch), named as in `model.named_parameters()`.

Event files are written with tensorboardX's protobufs and record writer (the optional extra
`pip install minidl[tensorboard]`: numpy and protobuf, without TensorFlow or the TensorBoard server),
flushed at the end of every epoch (an interrupted run keeps every finished epoch) and closed when
training ends.
"""

import itertools
import os
import time

import numpy as np

from minidl.errors import ArgumentError
from minidl.train.callbacks import Callback

INSTALL_HINT = "TensorBoardLogger needs the tensorboardX package: pip install minidl[tensorboard]"
_file_numbers = itertools.count()


def tensorboardx():
    """tensorboardX's (EventsWriter, summary module, event_pb2), or ImportError naming the extra to install."""
    try:
        from tensorboardX import summary
        from tensorboardX.event_file_writer import EventsWriter
        from tensorboardX.proto import event_pb2
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return EventsWriter, summary, event_pb2


class EventFile:
    """One run's event file, written synchronously: after `flush()` every event is on disk. (tensorboardX's
    SummaryWriter queues events for a background thread, and its flush does not wait for that queue.)"""

    def __init__(self, run_dir):
        self.EventsWriter, self.summary, self.event_pb2 = tensorboardx()
        os.makedirs(run_dir, exist_ok=True)
        suffix = f".{os.getpid()}.{next(_file_numbers)}"  # two files opened in the same second stay apart
        self.writer = self.EventsWriter(os.path.join(run_dir, "events"), filename_suffix=suffix)

    def add_scalar(self, tag, value, step):
        self._write(self.summary.scalar(tag, float(value)), step)

    def add_histogram(self, tag, values, step):
        values = np.asarray(values, dtype=np.float64).ravel()
        values = values[np.isfinite(values)]  # a diverged run still logs what is finite, and does not crash
        if values.size:
            self._write(self.summary.histogram(tag, values, bins="auto"), step)

    def _write(self, summary, step):
        self.writer.write_event(self.event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary))

    def flush(self):
        self.writer.flush()

    def close(self):
        self.writer.close()


class TensorBoardLogger(Callback):
    """Write losses, metrics and the learning rate every epoch, and weight and gradient histograms every
    `histogram_freq` epochs (0: none), as TensorBoard event files under `log_dir` (see the module docstring)."""

    priority = 900  # after the callbacks that change the logs, before the progress bar

    def __init__(self, log_dir, histogram_freq=0):
        if isinstance(histogram_freq, bool) or not isinstance(histogram_freq, int) or histogram_freq < 0:
            raise ArgumentError(f"TensorBoardLogger: histogram_freq must be an integer >= 0, got {histogram_freq!r}")
        tensorboardx()  # fail here, not after the first epoch
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.writers = {}

    def writer(self, run):
        """The EventFile of `run` ("train" or "validation"), opened on first use."""
        if run not in self.writers:
            self.writers[run] = EventFile(os.path.join(self.log_dir, run))
        return self.writers[run]
    def on_epoch_end(self, epoch, logs=None):
        step = epoch  # 0-based, as Keras and the History's lists
        for key, value in (logs or {}).items():
            run, name = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
            tag = "epoch_learning_rate" if name == "lr" else f"epoch_{name}"
            self.writer(run).add_scalar(tag, float(value), step)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self.write_histograms(step)
        for writer in self.writers.values():
            writer.flush()

    def write_histograms(self, step):
        train = self.writer("train")
        for name, p in self.trainer.model.named_parameters():
            train.add_histogram(f"weights/{name}", p.numpy().ravel(), step)
            if p.grad is not None:
                train.add_histogram(f"gradients/{name}", p.grad.numpy().ravel(), step)

    def on_train_end(self, logs=None):
        self.close()

    def close(self):
        for writer in self.writers.values():
            writer.close()
        self.writers = {}
