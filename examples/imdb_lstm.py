"""PyTorch's IMDB sentiment LSTM, line for line in minigrad.

The PyTorch program (torchtext-era tutorials, packed padded sequences):

    tokenizer = get_tokenizer("basic_english")
    vocab = build_vocab_from_iterator((tokenizer(t) for _, t in train_iter), specials=["<pad>", "<unk>"],
                                      max_tokens=20000)
    vocab.set_default_index(vocab["<unk>"])

    class LSTMClassifier(nn.Module):
        def __init__(self, vocab_size, embedding_dim, hidden_dim, output_dim, pad_idx):
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=pad_idx)
            self.lstm = nn.LSTM(embedding_dim, hidden_dim)
            self.fc = nn.Linear(hidden_dim, output_dim)

        def forward(self, text, lengths):                        # text: (T, B) token ids
            embedded = self.embedding(text)
            packed = nn.utils.rnn.pack_padded_sequence(embedded, lengths, enforce_sorted=False)
            _, (hidden, _) = self.lstm(packed)
            return self.fc(hidden[-1])

    model = LSTMClassifier(len(vocab), 100, 256, 2, vocab["<pad>"])
    optimizer = optim.Adam(model.parameters(), lr=2e-3)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(5): ...                                   # batches of 64, bucketed by length

Run:  python examples/imdb_lstm.py --root DIR        (DIR: the aclImdb folder or the one holding it)
"""
import argparse
import os

import minigrad as mg
import minigrad.nn as nn
from minigrad.data import IMDB, DataLoader
from minigrad.data.text import BucketSampler, PadCollate, TokenizedDataset, build_vocab, get_tokenizer
from minigrad.optim import Adam
from minigrad.train import save_checkpoint

parser = argparse.ArgumentParser()
parser.add_argument("--root", required=True, help="the aclImdb folder (train/pos, train/neg, test/pos, test/neg)")
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--batch-size", type=int, default=64)
parser.add_argument("--save", default="imdb_lstm.npz", help="where to write the trained weights (+ .vocab.json)")
args = parser.parse_args()

mg.manual_seed(0)
tokenizer = get_tokenizer("basic_english")
train_text, test_text = IMDB(args.root, split="train"), IMDB(args.root, split="test")
vocab = build_vocab((tokenizer(text) for text, _ in train_text), specials=["<pad>", "<unk>"],
                    max_size=20000 - 2)                          # max_tokens=20000, the specials included
train_set = TokenizedDataset(train_text, vocab, tokenizer)       # ids of each review, vocab["<unk>"] by default
test_set = TokenizedDataset(test_text, vocab, tokenizer)


class LSTMClassifier(nn.Module):
    def __init__(self, vocab_size, embedding_dim, hidden_dim, output_dim, pad_idx):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=pad_idx)
        self.lstm = nn.LSTM(embedding_dim, hidden_dim)
        self.fc = nn.Linear(hidden_dim, output_dim)

    def forward(self, text, lengths):                            # text: (T, B) token ids
        embedded = self.embedding(text)
        packed = nn.utils.rnn.pack_padded_sequence(embedded, lengths, enforce_sorted=False)
        _, (hidden, _) = self.lstm(packed)
        return self.fc(hidden[-1])


model = LSTMClassifier(len(vocab), 100, 256, 2, vocab["<pad>"])
optimizer = Adam(model.parameters(), lr=2e-3)
criterion = nn.CrossEntropyLoss()

collate = PadCollate(vocab["<pad>"], batch_first=False)          # (T, B) tokens, as the PyTorch program
generator = mg.Generator().manual_seed(0)
train_loader = DataLoader(train_set, batch_size=args.batch_size, collate_fn=collate,
                          sampler=BucketSampler(train_set.lengths, args.batch_size, generator=generator))
test_loader = DataLoader(test_set, batch_size=256, collate_fn=collate,
                         sampler=BucketSampler(test_set.lengths, 256, shuffle=False))


def accuracy(logits, labels):
    return int((logits.argmax(1) == labels).sum())


for epoch in range(args.epochs):
    model.train()
    total, correct, seen = 0.0, 0, 0
    for (text, lengths), labels in train_loader:
        optimizer.zero_grad()
        logits = model(text, lengths)
        loss = criterion(logits, labels)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(labels)
        correct += accuracy(logits, labels)
        seen += len(labels)
    print(f"epoch {epoch + 1}/{args.epochs}  loss {total / seen:.4f}  accuracy {correct / seen:.4f}")

model.eval()
with mg.no_grad():
    correct = sum(accuracy(model(text, lengths), labels) for (text, lengths), labels in test_loader)
print(f"test accuracy {correct / len(test_set):.4f}")

save_checkpoint(args.save, model)                                # torch.save(model.state_dict(), ...)
vocab.save(os.path.splitext(args.save)[0] + ".vocab.json")      # the vocabulary goes with the weights
print(f"saved {args.save} and its vocabulary")
