"""A character-level Transformer, written out: the training loop behind ``python -m minigrad
train transformer``, then what the model does with it.

Without arguments it learns to reverse strings of 10 letters (a synthetic task, nothing to
download: each output position must attend to the mirrored input position) and prints a few
test strings with its answers.  With ``--text FILE`` it becomes a causal language model of that
file's characters and, after training, writes a continuation of a prompt one character at a
time (sampling from its softmax).

Run:  python examples/transformer_chars.py [--epochs 2] [--text FILE --prompt "The "]
"""
import argparse

import numpy as np

import minigrad as mg
from minigrad import nn
from minigrad.data import DataLoader
from minigrad.data.chars import reversal, text_chunks
from minigrad.models import CharTransformer


def train(model, train_set, epochs, lr=3e-3, batch_size=64, log=print):
    optimizer = mg.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(train_set, batch_size=batch_size, shuffle=True, generator=mg.Generator().manual_seed(0))
    for epoch in range(epochs):
        model.train()
        total, right, count = 0.0, 0, 0
        for ids, targets in loader:
            optimizer.zero_grad()
            logits = model(ids)                      # (B, vocab, L)
            loss = loss_fn(logits, targets)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(ids)
            right += int((logits.detach().numpy().argmax(1) == targets.numpy()).sum())
            count += targets.numpy().size
        log(f"epoch {epoch + 1}: loss {total / len(train_set):.4f}, character accuracy {right / count:.3f}")


@mg.no_grad()
def accuracy(model, dataset):
    model.eval()
    ids, targets = mg.tensor(dataset.inputs), mg.tensor(dataset.targets)
    return float((model(ids).numpy().argmax(1) == targets.numpy()).mean())


@mg.no_grad()
def continue_text(model, alphabet, prompt, length=200, temperature=0.8, seed=0):
    """Sample ``length`` characters after ``prompt`` (characters outside the alphabet are dropped)."""
    model.eval()
    rng = np.random.default_rng(seed)
    index = {c: i for i, c in enumerate(alphabet)}
    ids = [index[c] for c in prompt if c in index] or [0]
    for _ in range(length):
        window = mg.tensor([ids[-model.max_len:]])
        logits = model(window).numpy()[0, :, -1] / temperature
        p = np.exp(logits - logits.max())
        ids.append(int(rng.choice(len(p), p=p / p.sum())))
    return "".join(alphabet[i] for i in ids)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="default: 2 (reversal), 5 (text)")
    parser.add_argument("--text", help="a UTF-8 text file: model its characters instead of reversing strings")
    parser.add_argument("--prompt", default="The ")
    args = parser.parse_args(argv)
    mg.manual_seed(0)
    if args.text:
        with open(args.text, encoding="utf-8") as f:
            train_set, test_set = text_chunks(f.read(), 64)
        model = CharTransformer(len(train_set.alphabet), 64, causal=True)
    else:
        train_set, test_set = reversal()
        model = CharTransformer(len(train_set.alphabet), train_set.inputs.shape[1])
    train(model, train_set, args.epochs or (5 if args.text else 2))
    print(f"test character accuracy {accuracy(model, test_set):.3f} (chance {1 / len(train_set.alphabet):.3f})")
    if args.text:
        print(continue_text(model, train_set.alphabet, args.prompt))
    else:
        model.eval()
        with mg.no_grad():
            answers = model(mg.tensor(test_set.inputs[:5])).numpy().argmax(1)
        for question, answer in zip(test_set.inputs[:5], answers):
            print(f"{test_set.decode(question)} -> {test_set.decode(answer)}")


if __name__ == "__main__":
    main()
