"""makemore's MLP on 32,033 names: 3 characters of context -> the next one (Bengio et al. 2003).

    MINIDL_DATA=/path/to/data python examples/names_mlp.py [--steps 200000] [--out out/] [--quick]

The "Neural Networks: Zero to Hero" lecture's network and recipe: 10-d character embeddings, 200 tanh
units, names split 80/10/10 with a fixed seed, SGD with batches of 32, rate 0.1 for the first half of
the steps and 0.01 after. Published dev loss: 2.17 nats per character (end-of-name token included).
"""

import argparse
import json
import os
import time


import minidl as mdl
from minidl.data import text
from minidl.train.language_model import bits, mean_loss, train_on_contexts
from minidl.zoo import NamesMLP, sample_names


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", default="out")
    parser.add_argument("--quick", action="store_true", help="2,000 names, 300 steps (smoke test)")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    start = time.perf_counter()

    mdl.manual_seed(args.seed)
    names = text.load_names()                                            # 32,033 names from $MINIDL_DATA
    if args.quick:
        names, args.steps = names[:2000], 300
    vocab = text.CharVocab.from_text("".join(names), specials=(".",))    # "." (index 0) starts and ends a name
    train_names, dev_names, test_names = text.split_names(names, seed=args.seed)
    X, Y = text.context_windows(train_names, vocab, context=3)           # (182,531, 3) -> (182,531,) on all names
    dev, test = text.context_windows(dev_names, vocab), text.context_windows(test_names, vocab)

    model = NamesMLP(len(vocab), context=3, embed_dim=10, hidden=200)
    history = train_on_contexts(model, (X, Y), dev, args.steps, batch_size=args.batch_size, lr=args.lr,
                                seed=args.seed)                          # SGD 0.1, then 0.01 for the second half
    train_loss, dev_loss, test_loss = (mean_loss(model, [data]) for data in ((X, Y), dev, test))

    samples = sample_names(model, vocab, n=20, seed=args.seed)
    with open(os.path.join(args.out, "names_samples.txt"), "w") as f:
        f.write("\n".join(samples) + "\n")
    mdl.save(model.state_dict(), os.path.join(args.out, "names_mlp.npz"))
    vocab.save(os.path.join(args.out, "names_vocab.json"))
    with open(os.path.join(args.out, "names_history.json"), "w") as f:
        json.dump(history, f)
    print("samples:", ", ".join(samples[:10]))
    print(f"train {train_loss:.4f}  dev {dev_loss:.4f}  test_loss {test_loss:.4f} nats/char "
          f"({bits(dev_loss):.3f} bits dev; published dev 2.17)  {args.steps} steps, "
          f"{time.perf_counter() - start:.0f} s")
    return dev_loss


if __name__ == "__main__":
    main()
