"""Model averaging (bagging): several networks trained apart, their predicted probabilities averaged.

    python examples/model_averaging.py [--members 5] [--out out/] [--quick]

Five dense networks differ in their random initialisation, the order of their batches and their
training data: each draws a bootstrap sample (n draws with replacement) of the training set. Their
errors are partly independent, so averaging their predicted probabilities (`minidl.train.Ensemble`)
cancels some of them: the ensemble's test loss and accuracy are usually better than the average
member's, without having to know in advance which member is the best one.
"""

import argparse
import os

import numpy as np

import minidl as mdl
import minidl.nn as nn
from minidl.train import EarlyStopping, Ensemble, Trainer
from minidl.zoo import make_optimizer, mlp, prepare_data


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="out")
    parser.add_argument("--quick", action="store_true", help="2 members, 3 epochs (smoke test)")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    members, epochs = (2, 3) if args.quick else (args.members, args.epochs)

    data = prepare_data("digits", seed=args.seed)
    models, scores = [], []
    for m in range(members):
        mdl.manual_seed(args.seed + m)                   # a different initialisation per member
        bootstrap = np.random.default_rng(args.seed + m).integers(0, len(data.y_train), len(data.y_train))
        X_train, y_train = data.X_train[bootstrap], data.y_train[bootstrap]
        model = mlp(64, 10, hidden=(128, 64))
        trainer = Trainer(model, nn.CrossEntropyLoss(), make_optimizer("adam", model.parameters(), lr=1e-3),
                          callbacks=[EarlyStopping(patience=5, restore_best_weights=True)], progress=False)
        trainer.fit((X_train, y_train), val=(data.X_val, data.y_val), epochs=epochs, seed=args.seed + m)
        scores.append(trainer.evaluate((data.X_test, data.y_test)))
        models.append(model)
        print(f"member {m + 1}: test_loss {scores[-1]['loss']:.4f}  test_accuracy {scores[-1]['accuracy']:.4f}")

    ensemble = Ensemble(models)                           # averages the members' softmax probabilities
    combined = Trainer(ensemble, nn.CrossEntropyLoss(), make_optimizer("adam", ensemble.parameters(), lr=1e-3),
                       progress=False).evaluate((data.X_test, data.y_test))
    accuracies = [s["accuracy"] for s in scores]
    print(f"members: mean test_loss {np.mean([s['loss'] for s in scores]):.4f}  mean test_accuracy "
          f"{np.mean(accuracies):.4f} (best member {max(accuracies):.4f})")
    print(f"ensemble of {members}: test_loss {combined['loss']:.4f}  test_accuracy {combined['accuracy']:.4f}")
    mdl.save(ensemble.state_dict(), os.path.join(args.out, "ensemble.npz"))
    return combined["accuracy"], accuracies


if __name__ == "__main__":
    main()
