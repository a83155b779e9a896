"""A small GPT on Tiny Shakespeare, character by character: nanoGPT's CPU recipe.

    MINIDL_DATA=/path/to/data python examples/shakespeare_gpt.py [--steps 2000] [--out out/] [--quick]

nanoGPT's README runs `train.py config/train_shakespeare_char.py --device=cpu --block_size=64
--batch_size=12 --n_layer=4 --n_head=4 --n_embd=128 --max_iters=2000 --lr_decay_iters=2000 --dropout=0.0`
and reaches a validation loss of about 1.88 nats per character. Its other settings: AdamW at 1e-3
(betas 0.9/0.99, weight decay 0.1 on matrices), 100 warm-up steps then cosine decay to 1e-4, gradient
clipping at 1.0, the first 90 % of the text for training and the last 10 % for validation.
BLAS runs on one thread by default (--blas-threads): on a busy 2-core machine this was 2-7x faster.
"""

import argparse
import json
import os
import time

import minidl as mdl
from minidl.data import text
from minidl.train.language_model import bits, train_on_text
from minidl.zoo import GPT, generate, save_language_model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=12)
    parser.add_argument("--block-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--blas-threads", type=int, default=1)
    parser.add_argument("--out", default="out")
    parser.add_argument("--quick", action="store_true", help="a tiny model, 30 steps on 20,000 characters (smoke test)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=args.blas_threads, user_api="blas"):
        mdl.manual_seed(args.seed)
        corpus = text.load_tiny_shakespeare()                            # 1,115,394 characters from $MINIDL_DATA
        vocab = text.CharVocab.from_text(corpus)                         # 65 characters
        train, val = text.split_tokens(vocab.encode(corpus), 0.9)        # nanoGPT's 90/10 split
        if args.quick:
            train, val, args.steps, args.block_size = train[:20000], val[:5000], 30, 16
            model = GPT(len(vocab), block_size=16, n_layer=1, n_head=2, n_embd=32)
        else:
            model = GPT(len(vocab), block_size=args.block_size, n_layer=4, n_head=4, n_embd=128, dropout=0.0)
        print(f"GPT: {sum(p.size for p in model.parameters()):,} parameters")
        history = train_on_text(model, train, val, args.steps, args.batch_size, args.block_size, lr=args.lr,
                                eval_every=max(args.steps // 8, 1), eval_batches=2 if args.quick else 20,
                                seed=args.seed)
        context = vocab.encode("\n")
        sample = vocab.decode(generate(model, context, 500 if not args.quick else 50, temperature=0.8, seed=0))

    run = os.path.join(args.out, "shakespeare_gpt")
    save_language_model(run, model, vocab, dataset="shakespeare", steps=args.steps,
                        val_loss=history["val_loss_full"])
    with open(os.path.join(run, "samples.txt"), "w") as f:
        f.write(sample + "\n")
    with open(os.path.join(run, "history.json"), "w") as f:
        json.dump(history, f)
    val_loss = history["val_loss_full"]
    print(sample)
    print(f"test (validation) loss {val_loss:.4f} nats/char = {bits(val_loss):.3f} bits/char over every "
          f"validation window (nanoGPT's 20-batch estimate: {history['val_loss'][-1]:.4f}; published about 1.88); "
          f"{args.steps} steps, {history['seconds']:.0f} s training, {time.perf_counter() - start:.0f} s in all")
    return val_loss


if __name__ == "__main__":
    main()
