"""A character-level LSTM on Tiny Shakespeare (char-rnn's model, nanoGPT's training recipe).

    MINIDL_DATA=/path/to/data python examples/shakespeare_lstm.py [--steps 1200] [--out out/] [--quick]

Embedding (65 -> 64) -> one LSTM layer of 256 units -> Linear (256 -> 65), trained on windows of 32
characters, batches of 32 (1,200 steps: about 1.2 M characters, one pass over the training text), AdamW
at 3e-3 with 100 warm-up steps and cosine decay to 3e-4, gradients clipped at 1.0, the same 90/10 split as the GPT example, so the two validation losses compare directly.
Each window starts from a zero state (as nanoGPT's windows start without context), and sampling feeds
the last 32 characters. BLAS runs on one thread by default (--blas-threads).
"""

import argparse
import json
import os
import time

import minidl as mdl
from minidl.data import text
from minidl.train.language_model import bits, train_on_text
from minidl.zoo import LSTMLanguageModel, generate, save_language_model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--block-size", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--blas-threads", type=int, default=1)
    parser.add_argument("--out", default="out")
    parser.add_argument("--quick", action="store_true", help="a tiny model, 20 steps on 20,000 characters (smoke test)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=args.blas_threads, user_api="blas"):
        mdl.manual_seed(args.seed)
        corpus = text.load_tiny_shakespeare()                            # 1,115,394 characters from $MINIDL_DATA
        vocab = text.CharVocab.from_text(corpus)
        train, val = text.split_tokens(vocab.encode(corpus), 0.9)
        if args.quick:
            train, val, args.steps, args.block_size, args.hidden = train[:20000], val[:3000], 20, 16, 32
        model = LSTMLanguageModel(len(vocab), embed_dim=64, hidden_size=args.hidden, num_layers=args.layers,
                                  block_size=args.block_size)
        print(f"LSTM: {sum(p.size for p in model.parameters()):,} parameters")
        history = train_on_text(model, train, val, args.steps, args.batch_size, args.block_size, lr=args.lr,
                                eval_every=max(args.steps // 6, 1), eval_batches=2 if args.quick else 20,
                                seed=args.seed)
        sample = vocab.decode(generate(model, vocab.encode("\n"), 300 if not args.quick else 30, temperature=0.8,
                                       seed=0))

    run = os.path.join(args.out, "shakespeare_lstm")
    save_language_model(run, model, vocab, dataset="shakespeare", steps=args.steps, val_loss=history["val_loss_full"])
    with open(os.path.join(run, "samples.txt"), "w") as f:
        f.write(sample + "\n")
    with open(os.path.join(run, "history.json"), "w") as f:
        json.dump(history, f)
    val_loss = history["val_loss_full"]
    print(sample)
    print(f"test (validation) loss {val_loss:.4f} nats/char = {bits(val_loss):.3f} bits/char over every validation "
          f"window; {args.steps} steps, {history['seconds']:.0f} s training, "
          f"{time.perf_counter() - start:.0f} s in all")
    return val_loss


if __name__ == "__main__":
    main()
