"""`minidl.train`: the course's method as a tool. Train on one split, validate every epoch, stop early,
choose hyper-parameters by K-fold cross-validation, refit on all training data, test once.

    from minidl.train import Trainer, EarlyStopping, ModelCheckpoint, cross_validate, grid_search

    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters()), metrics=("accuracy",),
                      callbacks=[EarlyStopping(patience=5, restore_best_weights=True)])
    history = trainer.fit((X_train, y_train), val=(X_val, y_val), epochs=50)
"""

from minidl.train.callbacks import (Callback, CSVLogger, EarlyStopping, LambdaCallback, ModelCheckpoint, ProgressBar,
                                    SchedulerCallback)
from minidl.train.cross_validation import (CVResult, SearchResult, as_trainer, cross_validate, grid_search,
                                           log_uniform, make_folds, random_search)
from minidl.train.ensemble import Ensemble
from minidl.train.history import History
from minidl.train.tensorboard import TensorBoardLogger
from minidl.train.trainer import Trainer, infer_task

__all__ = ["Callback", "CSVLogger", "CVResult", "EarlyStopping", "Ensemble", "History", "LambdaCallback",
           "ModelCheckpoint", "ProgressBar", "SchedulerCallback", "SearchResult", "TensorBoardLogger", "Trainer",
           "as_trainer", "cross_validate", "grid_search", "infer_task", "log_uniform", "make_folds", "random_search"]
