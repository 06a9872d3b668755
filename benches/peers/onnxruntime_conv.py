"""The convolution cases of `benches/conv.rs`, timed in ONNX Runtime on one thread at batch 1.

Builds each model as an ONNX graph with random weights (the `onnx` package), runs it on the CPU execution
provider with one intra-op and one inter-op thread, and prints one line per case in the format of
`benches/run-all.sh`: `onnxruntime/{case} {median} us`, the median over seven timed rounds of at least 0.3 s
each. Every call goes through Python, so the times include a few microseconds of call overhead.

    python3 benches/peers/onnxruntime_conv.py            # every case
    python3 benches/peers/onnxruntime_conv.py vgg_cifar  # some

Needs `pip install onnx onnxruntime numpy` (a virtual environment will do); `benches/run-all.sh` skips it with a
message when they are missing.
"""
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper


class Graph:
    """A sequential ONNX graph under construction."""

    def __init__(self, shape):
        self.rng = np.random.default_rng(0)
        self.shape = shape
        self.nodes, self.weights = [], []
        self.last = "x"
        self.count = 0

    def _name(self, kind):
        self.count += 1
        return f"{kind}{self.count}"

    def _tensor(self, name, shape, scale):
        values = (self.rng.standard_normal(shape) * scale).astype(np.float32)
        self.weights.append(numpy_helper.from_array(values, name))
        return name

    def _node(self, op, inputs, **attributes):
        out = self._name(op.lower())
        self.nodes.append(helper.make_node(op, [self.last] + inputs, [out], **attributes))
        self.last = out
        return self

    def conv(self, cin, cout, k, pad=0, stride=1, groups=1):
        name = self._name("w")
        w = self._tensor(name, (cout, cin // groups, k, k), 0.05)
        b = self._tensor(name + "b", (cout,), 0.05)
        return self._node(
            "Conv", [w, b], kernel_shape=[k, k], pads=[pad] * 4, strides=[stride, stride], group=groups
        )

    def relu(self):
        return self._node("Relu", [])

    def max_pool(self):
        return self._node("MaxPool", [], kernel_shape=[2, 2], strides=[2, 2])

    def global_average_pool(self):
        self._node("GlobalAveragePool", [])
        return self.flatten()

    def flatten(self):
        return self._node("Flatten", [])

    def dense(self, inputs, outputs):
        name = self._name("d")
        w = self._tensor(name, (outputs, inputs), 0.05)
        b = self._tensor(name + "b", (outputs,), 0.05)
        return self._node("Gemm", [w, b], transB=1)

    def model(self):
        graph = helper.make_graph(
            self.nodes,
            "bench",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, self.shape)],
            [helper.make_tensor_value_info(self.last, TensorProto.FLOAT, None)],
            self.weights,
        )
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def vgg_cifar():
    g = Graph([1, 3, 32, 32])
    channels = 3
    for item in [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]:
        if item == "M":
            g.max_pool()
        else:
            g.conv(channels, item, 3, pad=1).relu()
            channels = item
    return g.flatten().dense(512, 512).relu().dense(512, 512).relu().dense(512, 10)


def mnist_cnn():
    g = Graph([1, 1, 28, 28])
    g.conv(1, 8, 5).relu().max_pool().conv(8, 16, 5).relu().max_pool().flatten()
    return g.dense(256, 120).relu().dense(120, 84).relu().dense(84, 10)


def mobile_blocks():
    g = Graph([1, 32, 16, 16])
    g.conv(32, 32, 3, pad=1, groups=32).relu().conv(32, 64, 1).relu()
    g.conv(64, 64, 3, pad=1, stride=2, groups=64).relu().conv(64, 128, 1).relu()
    return g.global_average_pool().dense(128, 10)


CASES = {
    "conv_layer/1x28x28->8@5x5": lambda: Graph([1, 1, 28, 28]).conv(1, 8, 5),
    "conv_layer/16x14x14->32@3x3p1": lambda: Graph([1, 16, 14, 14]).conv(16, 32, 3, pad=1),
    "conv_layer/64x8x8->64@3x3p1": lambda: Graph([1, 64, 8, 8]).conv(64, 64, 3, pad=1),
    "conv_layer/64x8x8->128@1x1": lambda: Graph([1, 64, 8, 8]).conv(64, 128, 1),
    "depthwise/32x16x16@3x3": lambda: Graph([1, 32, 16, 16]).conv(32, 32, 3, pad=1, groups=32),
    "mobile_blocks/forward/sample": mobile_blocks,
    "mnist_cnn/forward/sample": mnist_cnn,
    "vgg_cifar/forward/sample": vgg_cifar,
}


def time_case(graph):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(graph.model(), options, providers=["CPUExecutionProvider"])
    x = {"x": graph.rng.standard_normal(graph.shape).astype(np.float32)}
    for _ in range(20):
        session.run(None, x)
    rounds = []
    for _ in range(7):
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < 0.3:
            session.run(None, x)
            calls += 1
        rounds.append((time.perf_counter() - start) / calls)
    return float(np.median(rounds))


def main():
    wanted = sys.argv[1:] or list(CASES)
    for prefix in wanted:
        names = [name for name in CASES if name.startswith(prefix)]
        if not names:
            sys.exit(f"unknown case {prefix}; the cases are {', '.join(CASES)}")
        for name in names:
            print(f"onnxruntime/{name} {time_case(CASES[name]()) * 1e6:.2f} us", flush=True)


if __name__ == "__main__":
    main()
