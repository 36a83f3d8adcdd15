"""TensorBoard logs with PyTorch's ``SummaryWriter`` names, written by tensorboardX (an extra:
``pip install 'minigrad[interop]'``).

    from minigrad.utils.tensorboard import SummaryWriter
    with SummaryWriter("runs/exp1") as w:
        w.add_scalar("loss/train", loss.item(), epoch)
        w.add_histogram("fc.weight", model.fc.weight, epoch)
        w.add_graph(model, x)                       # the ops of one forward pass, boxed by module

Tensors may be minigrad Tensors (on any device), NumPy arrays or numbers.
"""
from __future__ import annotations

import datetime
import functools
import itertools
import os
import socket
import time

import numpy as np

from .. import backend
from ..tensor import Tensor

__all__ = ["SummaryWriter"]


def _tensorboardx():
    try:
        import tensorboardX
    except ImportError as exc:
        raise ModuleNotFoundError("TensorBoard logs need tensorboardX: pip install 'minigrad[interop]'",
                                  name=exc.name) from exc
    return tensorboardX


def _numpy(value):
    if isinstance(value, Tensor):
        value = value._data
    if backend.is_array(value):
        return np.asarray(backend.to_device(value, backend.CPU))
    return np.asarray(value)


def _scalar(value):
    return float(_numpy(value).reshape(()))


class SummaryWriter:
    """Writes event files to ``log_dir`` (default ``runs/<date>_<host><comment>``, as PyTorch).

    Events are written on the calling thread with tensorboardX's record writer and summary
    builders, and reach the disk every ``max_queue`` events, every ``flush_secs`` seconds, on
    :meth:`flush` and on :meth:`close` (tensorboardX's own writer queues them for a background
    thread, whose ``flush()`` misses what is still queued)."""

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10, flush_secs=120, filename_suffix=""):
        _tensorboardx()
        if log_dir is None:
            stamp = datetime.datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.log_dir = os.fspath(log_dir)
        self.max_queue, self.flush_secs, self.filename_suffix = max_queue, flush_secs, filename_suffix
        self._writers = {}                # folder -> [EventsWriter, events since the last flush]
        self._last_flush = time.time()
        self._closed = False
        self._purge_step = purge_step

    def get_logdir(self) -> str:
        return self.log_dir

    # -- the event files: one per folder (add_scalars writes one folder per tag, as PyTorch)
    def _write(self, folder, event, step, walltime):
        from tensorboardX.event_file_writer import EventsWriter
        from tensorboardX.proto import event_pb2
        if self._closed:
            raise RuntimeError(f"SummaryWriter: {self.log_dir} was closed")
        entry = self._writers.get(folder)
        if entry is None:
            os.makedirs(folder, exist_ok=True)
            suffix = f".{os.getpid()}.{next(_file_ids)}{self.filename_suffix}"   # unique within a second
            entry = self._writers[folder] = [EventsWriter(os.path.join(folder, "events"), suffix), 0]
            if self._purge_step is not None:       # TensorBoard drops events from purge_step on (a restart)
                start = event_pb2.SessionLog(status=event_pb2.SessionLog.START)
                entry[0].write_event(event_pb2.Event(step=int(self._purge_step), wall_time=time.time(),
                                                     session_log=start))
        event.wall_time = time.time() if walltime is None else walltime
        if step is not None:
            event.step = int(step)
        entry[0].write_event(event)
        entry[1] += 1
        if entry[1] >= self.max_queue or time.time() - self._last_flush >= self.flush_secs:
            self.flush()

    def _summary(self, summary, step, walltime, folder=None):
        from tensorboardX.proto import event_pb2
        self._write(folder or self.log_dir, event_pb2.Event(summary=summary), step, walltime)

    # -- what PyTorch's SummaryWriter logs
    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None):
        from tensorboardX import summary
        self._summary(summary.scalar(tag, _scalar(scalar_value)), global_step, walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Several scalars in one chart: each tag is a run ``<log_dir>/<main_tag>_<tag>`` holding ``main_tag``."""
        from tensorboardX import summary
        for tag, value in tag_scalar_dict.items():
            folder = os.path.join(self.log_dir, f"{main_tag.replace('/', '_')}_{tag}")
            self._summary(summary.scalar(main_tag, _scalar(value)), global_step, walltime, folder)

    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None, max_bins=None):
        from tensorboardX import summary
        values = _numpy(values).astype(np.float64, copy=False).reshape(-1)
        if isinstance(bins, str) and bins == "tensorflow":
            bins = _tensorflow_bins()
        self._summary(summary.histogram(tag, values, bins, max_bins=max_bins), global_step, walltime)

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        """An image: floats in [0, 1] or uint8 in [0, 255], laid out as ``dataformats`` (CHW, HWC, HW)."""
        from tensorboardX import summary
        self._summary(summary.image(tag, _numpy(img_tensor), dataformats=dataformats), global_step, walltime)

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        from tensorboardX import summary
        self._summary(summary.text(tag, text_string), global_step, walltime)

    def add_graph(self, model, input_to_model=None, verbose=False):
        """The graph of one forward pass of ``model`` on ``input_to_model`` (a Tensor or a tuple of them),
        captured with :func:`minigrad.capture.capture`, or an already captured graph: an op node per
        op, named by its module path so TensorBoard boxes the modules, with the shapes on the edges."""
        from tensorboardX.proto import event_pb2
        from ..capture import Graph, capture
        if isinstance(model, Graph):
            graph = model
        else:
            if input_to_model is None:
                raise ValueError("add_graph: input_to_model is required to run the model once")
            graph = capture(model, input_to_model)
        graph_def = _graph_def(graph)
        if verbose:
            print(graph_def)
        self._write(self.log_dir, event_pb2.Event(graph_def=graph_def.SerializeToString()), None, None)

    def flush(self):
        """Write every event logged so far to disk."""
        for entry in self._writers.values():
            entry[0].flush()
            entry[1] = 0
        self._last_flush = time.time()

    def close(self):
        if self._closed:
            return
        for writer, _ in self._writers.values():
            writer.close()
        self._writers.clear()
        self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


_file_ids = itertools.count()


@functools.lru_cache(maxsize=None)
def _tensorflow_bins():
    """TensorFlow's default histogram bucket edges (PyTorch's ``bins="tensorflow"``): 0 and
    +-1e-12 * 1.1^k up to 1e20, which give fine buckets near zero and a fixed set for every step."""
    edges = 1e-12 * 1.1 ** np.arange(int(np.ceil(np.log(1e32) / np.log(1.1))))
    edges = edges[edges < 1e20]
    return np.concatenate([-edges[::-1], [0.0], edges]).tolist()


def _graph_def(graph):
    """The captured graph as TensorBoard's GraphDef: inputs under ``input/``, parameters and op nodes
    under their module's path (``layer1/0/conv1/Conv2d_3``), ``_output_shapes`` for the edge labels."""
    from tensorboardX.proto import attr_value_pb2, graph_pb2, node_def_pb2, tensor_shape_pb2, versions_pb2

    def shape_attr(shapes):
        dims = [tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=int(n)) for n in s])
                for s in shapes]
        return {"_output_shapes": attr_value_pb2.AttrValue(list=attr_value_pb2.AttrValue.ListValue(shape=dims))}

    node_of = {}                 # value name -> TensorBoard node name (":k" for an op's k-th output)
    nodes = []

    def add(name, op, inputs, shapes):
        nodes.append(node_def_pb2.NodeDef(name=name, op=op, input=inputs, attr=shape_attr(shapes)))

    for v in graph.inputs:
        node_of[v.name] = f"input/{v.name}"
        add(node_of[v.name], "IO Node", [], [v.shape])
    for v in graph.parameters + graph.constants:
        node_of[v.name] = v.name.replace(".", "/") if v.kind == "parameter" else f"constants/{v.name}"
    used = set()
    for n in graph.nodes:
        scope = n.scope.replace(".", "/")
        name = f"{scope}/{n.name}" if scope else n.name
        inputs = []
        for a in n.args:
            if hasattr(a, "kind"):
                inputs.append(node_of[a.name])
                used.add(a.name)
        add(name, n.op, inputs, [o.shape for o in n.outputs])
        for k, o in enumerate(n.outputs):
            node_of[o.name] = name if k == 0 else f"{name}:{k}"
    for v in graph.parameters + graph.constants:
        if v.name in used:
            add(node_of[v.name], "Parameter" if v.kind == "parameter" else "Constant", [], [v.shape])
    for i, v in enumerate(graph.outputs):
        add(f"output/output_{i}", "IO Node", [node_of[v.name]], [v.shape])
    return graph_pb2.GraphDef(node=nodes, versions=versions_pb2.VersionDef(producer=22))
