"""`minidl.optim`: optimizers (SGD, Adam, AdamW, Adagrad, RMSprop) and learning-rate schedules.

    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = optim.lr_scheduler.StepLR(opt, step_size=10)
    for epoch in range(epochs):
        for x, y in loader:
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
        sched.step()
"""

from minidl.optim.optimizer import Optimizer
from minidl.optim.sgd import SGD
from minidl.optim.adam import Adam, AdamW
from minidl.optim.adagrad import Adagrad
from minidl.optim.rmsprop import RMSprop
from minidl.optim import lr_scheduler

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "lr_scheduler"]
