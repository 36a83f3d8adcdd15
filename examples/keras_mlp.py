"""The classic Keras MNIST MLP, line for line in minigrad.

The Keras program:

    model = keras.Sequential([
        keras.layers.Flatten(input_shape=(28, 28)),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=5, batch_size=32)
    model.evaluate(x_test, y_test)

Run:  python examples/keras_mlp.py                     (the bundled 8x8 digits)
      python examples/keras_mlp.py --root DIR          (MNIST IDX files in DIR)
"""
import argparse

import minigrad as mg
import minigrad.nn as nn
from minigrad.data import MNIST, DataLoader, Digits
from minigrad.optim import Adam

parser = argparse.ArgumentParser()
parser.add_argument("--root", help="folder with the MNIST IDX files (default: the bundled digits)")
parser.add_argument("--epochs", type=int, default=5)
args = parser.parse_args()

mg.manual_seed(0)
train_set, test_set = (MNIST(args.root, train=True), MNIST(args.root, train=False)) if args.root else \
    (Digits(train=True), Digits(train=False))
side = train_set[0][0].shape[-1]

model = nn.Sequential(                                  # keras.Sequential([
    nn.Flatten(),                                       #   Flatten(input_shape=(28, 28)),
    nn.Linear(side * side, 256), nn.ReLU(),             #   Dense(256, activation="relu"),
    nn.Linear(256, 10),                                 #   Dense(10, activation="softmax")])
)                                                       # (the softmax lives in the loss, on logits)
optimizer = Adam(model.parameters())                    # optimizer="adam" (lr 1e-3, as Keras)
loss_fn = nn.CrossEntropyLoss()                         # loss="sparse_categorical_crossentropy"

train_loader = DataLoader(train_set, batch_size=32, shuffle=True)     # batch_size=32
for epoch in range(args.epochs):                                      # model.fit(..., epochs=5)
    model.train()
    total, correct, seen = 0.0, 0, 0
    for x, y in train_loader:
        optimizer.zero_grad()
        logits = model(x)
        loss = loss_fn(logits, y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
        correct += int((logits.argmax(1) == y).sum())                 # metrics=["accuracy"]
        seen += len(y)
    print(f"epoch {epoch + 1}/{args.epochs}  loss {total / seen:.4f}  accuracy {correct / seen:.4f}")

model.eval()                                                          # model.evaluate(x_test, y_test)
with mg.no_grad():
    correct = sum(int((model(x).argmax(1) == y).sum()) for x, y in DataLoader(test_set, batch_size=256))
print(f"test accuracy {correct / len(test_set):.4f}")
