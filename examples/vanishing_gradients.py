"""Vanishing gradients through time, seen directly.

A recurrent cell is unrolled over T steps in a Python loop, one graph node per step.  Every
hidden state h_t keeps its gradient (``retain_grad``), the loss reads only the last one, and
after ``backward()`` the norm of dL/dh_t says how much of the loss's signal reaches step t.
For a tanh RNN it shrinks geometrically as t goes back from T: the loss can hardly teach the
early steps.  The LSTM's additive cell state lets more through, and more still with its forget
gate biased open (+1, a common initialisation).

Run:  python examples/vanishing_gradients.py [--steps 40] [--hidden 64] [--out vanishing_gradients.png]
"""
import argparse
import sys

import minigrad as mg
from minigrad import nn


def hidden_grad_norms(cell, inputs):
    """Unroll ``cell`` over ``inputs`` (T, B, I); return ||dL/dh_t|| for t = 0..T-1 with L = sum(h_T-1)."""
    lstm = isinstance(cell, nn.LSTMCell)
    batch = inputs.shape[1]
    h = mg.zeros(batch, cell.hidden_size)
    c = mg.zeros(batch, cell.hidden_size)
    states = []
    for t in range(inputs.shape[0]):
        if lstm:
            h, c = cell(inputs[t], (h, c))
        else:
            h = cell(inputs[t], h)
        h.retain_grad()                    # keep dL/dh_t, which the engine would otherwise pass on and drop
        states.append(h)
    h.sum().backward()
    return [float((s.grad ** 2).sum().sqrt().item()) for s in states]


def open_forget_gate(cell, bias=1.0):
    """Add ``bias`` to the LSTM's forget-gate bias (gates are ordered i, f, g, o)."""
    H = cell.hidden_size
    with mg.no_grad():
        cell.bias_hh.data[H:2 * H] += bias


def run(steps=40, hidden=64, batch=8, seed=0):
    """{label: [||dL/dh_t|| for each t]} for a tanh RNN, an LSTM and an LSTM with an open forget gate."""
    mg.manual_seed(seed)
    inputs = mg.randn(steps, batch, 16)
    cells = {"RNN (tanh)": nn.RNNCell(16, hidden), "LSTM": nn.LSTMCell(16, hidden)}
    opened = nn.LSTMCell(16, hidden)
    open_forget_gate(opened)
    cells["LSTM, forget bias +1"] = opened
    return {label: hidden_grad_norms(cell, inputs) for label, cell in cells.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--out", default="vanishing_gradients.png", help="the plot (needs matplotlib)")
    args = parser.parse_args(argv)
    if not hasattr(nn, "LSTMCell"):
        print("this build of minigrad has no nn.LSTMCell yet; nothing to show")
        return None
    norms = run(args.steps, args.hidden)
    print(f"{'t':>4} " + " ".join(f"{label:>22}" for label in norms))
    for t in range(0, args.steps, max(1, args.steps // 10)):
        print(f"{t:>4} " + " ".join(f"{values[t]:>22.3e}" for values in norms.values()))
    for label, values in norms.items():
        print(f"{label}: the gradient at t=0 is {values[0] / values[-1]:.1e} of the one at t={args.steps - 1}")
    try:
        from minigrad import viz
        viz.plot_grad_through_time(norms, args.out, title=f"||dL/dh_t|| with the loss on step {args.steps - 1}")
        print(f"wrote {args.out}")
    except ImportError as exc:
        print(f"no plot: {exc}")
    return norms


if __name__ == "__main__":
    main(sys.argv[1:])
