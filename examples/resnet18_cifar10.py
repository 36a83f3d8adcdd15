"""torchvision's ResNet-18 trained on CIFAR-10, the PyTorch way, in minigrad.

The PyTorch program (PyTorch's CIFAR-10 tutorial with torchvision's ResNet-18):

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean, std)])
    trainset = torchvision.datasets.CIFAR10(root, train=True, transform=transform)
    trainloader = torch.utils.data.DataLoader(trainset, batch_size=32, shuffle=True)
    net = torchvision.models.resnet18(num_classes=10)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)
    for epoch in range(epochs):
        for i, (inputs, labels) in enumerate(trainloader):
            optimizer.zero_grad()
            loss = criterion(net(inputs), labels)
            loss.backward()
            optimizer.step()
    ... then the accuracy on the 10,000 test images

Run:  python examples/resnet18_cifar10.py --root DIR     (DIR holds cifar-10-batches-py)
"""
import argparse
import time

import minigrad as mg
import minigrad.nn as nn
import minigrad.optim as optim
from minigrad.data import CIFAR10, DataLoader
from minigrad.data import transforms
from minigrad.models import resnet18

parser = argparse.ArgumentParser()
parser.add_argument("--root", required=True, help="folder with cifar-10-batches-py")
parser.add_argument("--epochs", type=int, default=2)
parser.add_argument("--batch-size", type=int, default=32)
parser.add_argument("--device", default="cpu")
args = parser.parse_args()

mg.manual_seed(0)
normalize = transforms.Normalize((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))
trainset = CIFAR10(args.root, train=True, transform=normalize)
testset = CIFAR10(args.root, train=False, transform=normalize)
trainloader = DataLoader(trainset, batch_size=args.batch_size, shuffle=True)
testloader = DataLoader(testset, batch_size=256)

net = resnet18(num_classes=10).to(args.device)
criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=0.001, momentum=0.9)

for epoch in range(args.epochs):
    net.train()
    running, start = 0.0, time.perf_counter()
    for i, (inputs, labels) in enumerate(trainloader):
        inputs, labels = inputs.to(args.device), labels.to(args.device)
        optimizer.zero_grad()
        loss = criterion(net(inputs), labels)
        loss.backward()
        optimizer.step()
        running += loss.item()
        if i % 200 == 199:
            print(f"[{epoch + 1}, {i + 1:5d}] loss: {running / 200:.3f}  ({time.perf_counter() - start:.0f} s)")
            running = 0.0
    print(f"epoch {epoch + 1} done")

net.eval()
correct = total = 0
with mg.no_grad():
    for inputs, labels in testloader:
        predicted = net(inputs.to(args.device)).argmax(1)
        correct += int((predicted == labels.to(args.device)).sum())
        total += len(labels)
print(f"Accuracy of the network on the {total} test images: {100 * correct / total:.1f} %")
