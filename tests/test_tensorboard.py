"""minigrad.utils.tensorboard.SummaryWriter: event files that read back with the logged values."""
import glob
import os
import struct

import numpy as np
import pytest

import minigrad as mg
from minigrad.models import small_cnn

pytest.importorskip("tensorboardX")
from tensorboardX.proto import event_pb2  # noqa: E402
from tensorboardX.record_writer import masked_crc32c  # noqa: E402

from minigrad.utils.tensorboard import SummaryWriter  # noqa: E402


def read_events(folder):
    """Every Event in the event files directly in ``folder``: TFRecord frames (length, its CRC, data,
    its CRC), the CRCs checked with the writer library's own function."""
    events = []
    for path in sorted(glob.glob(os.path.join(folder, "events.out.tfevents.*"))):
        data = open(path, "rb").read()
        i = 0
        while i < len(data):
            header = data[i:i + 8]
            (n,) = struct.unpack("<Q", header)
            assert struct.unpack("<I", data[i + 8:i + 12])[0] == masked_crc32c(header)
            body = data[i + 12:i + 12 + n]
            assert struct.unpack("<I", data[i + 12 + n:i + 16 + n])[0] == masked_crc32c(body)
            events.append(event_pb2.Event.FromString(body))
            i += 16 + n
    return events


def _values(events, tag):
    return [(e.step, v) for e in events for v in e.summary.value if v.tag == tag]


def test_scalars_histograms_images_read_back(tmp_path):
    with SummaryWriter(str(tmp_path)) as w:
        for step, loss in enumerate([1.0, 0.5, 0.25]):
            w.add_scalar("loss/train", mg.tensor(loss), step)
        w.add_scalars("accuracy", {"train": 0.75, "test": np.float32(0.5)}, 2)
        w.add_histogram("fc.weight", mg.arange(100, dtype=mg.float32), 1)
        w.add_image("digit", mg.ones(1, 4, 6) * 0.5, 0)
    events = read_events(str(tmp_path))
    assert [(s, v.simple_value) for s, v in _values(events, "loss/train")] == [(0, 1.0), (1, 0.5), (2, 0.25)]
    ((_, histo),) = _values(events, "fc.weight")
    assert (histo.histo.num, histo.histo.min, histo.histo.max, histo.histo.sum) == (100, 0, 99, 4950)
    ((_, image),) = _values(events, "digit")
    assert (image.image.height, image.image.width) == (4, 6)
    train = read_events(str(tmp_path / "accuracy_train"))          # add_scalars: one run per tag, as PyTorch
    assert [(s, v.simple_value) for s, v in _values(train, "accuracy")] == [(2, 0.75)]


def test_graph_boxes_ops_by_module_with_shapes(tmp_path):
    with SummaryWriter(str(tmp_path)) as w:
        w.add_graph(small_cnn(), mg.randn(2, 1, 8, 8))
    (event,) = [e for e in read_events(str(tmp_path)) if e.graph_def]
    from tensorboardX.proto import graph_pb2
    graph = graph_pb2.GraphDef.FromString(event.graph_def)
    nodes = {n.name: n for n in graph.node}
    conv = nodes["0/Conv2d_0"]
    assert conv.op == "Conv2d" and list(conv.input) == ["input/input_0", "0/weight"]
    dims = [d.size for d in conv.attr["_output_shapes"].list.shape[0].dim]
    assert dims == [2, 32, 8, 8]
    assert nodes["output/output_0"].input == ["9/Linear_0"]


def test_flush_writes_without_closing(tmp_path):
    w = SummaryWriter(str(tmp_path), flush_secs=3600)
    w.add_scalar("lr", 0.1, 0)
    w.flush()
    assert [v.simple_value for _, v in _values(read_events(str(tmp_path)), "lr")] == [pytest.approx(0.1)]
    w.close()


def test_tensorboards_own_reader_agrees(tmp_path):
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    with SummaryWriter(str(tmp_path)) as w:
        w.add_scalar("loss", 2.0, 3)
        w.add_graph(small_cnn(), mg.randn(1, 1, 8, 8))
    ea = accumulator.EventAccumulator(str(tmp_path))
    ea.Reload()
    assert [(e.step, e.value) for e in ea.Scalars("loss")] == [(3, 2.0)]
    assert any(n.name == "0/Conv2d_0" for n in ea.Graph().node)
