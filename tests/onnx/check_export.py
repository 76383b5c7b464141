#!/usr/bin/env python3
"""Checks models written by `tinynn export` against tinynn itself.

Usage: check_export.py NAME MODEL.onnx OUTPUTS.csv [NAME MODEL.onnx OUTPUTS.csv ...]

OUTPUTS.csv is what `tinynn eval --outputs` writes for the same checkpoint: each test sample as
the data holds it, its label (or targets) and tinynn's outputs. Every model must pass
onnx.checker (Debian's python3-onnx) with the promised IR version, opset and named, batch-dynamic
input and outputs. Then, when ONNX Runtime can be imported, each model runs on the test samples
and must give tinynn's outputs within 1e-5 and the same accuracy; without it the script says so
and exits 77 (CTest's skip code) after the checker passed.
"""
import sys

import numpy as np
import onnx

TOLERANCE = 1e-5


def read_outputs(path):
    with open(path) as f:
        header = f.readline().strip().split(",")
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    inputs = [i for i, h in enumerate(header) if h.startswith("input_")]
    labels = [i for i, h in enumerate(header) if h == "label"]
    outputs = [i for i, h in enumerate(header) if h.startswith("output_")]
    return data[:, inputs], data[:, labels[0]] if labels else None, data[:, outputs]


def check_structure(name, model):
    onnx.checker.check_model(model, full_check=True)
    assert model.ir_version == 8, f"{name}: IR version {model.ir_version}"
    assert [(o.domain, o.version) for o in model.opset_import] == [("", 17)], f"{name}: {model.opset_import}"
    graph = model.graph
    assert [i.name for i in graph.input] == ["input"], f"{name}: inputs {[i.name for i in graph.input]}"
    for value in list(graph.input) + list(graph.output):
        first = value.type.tensor_type.shape.dim[0]
        assert first.dim_param == "batch", f"{name}: {value.name}'s first axis is not the dynamic batch"
    return [o.name for o in graph.output]


def main(args):
    if len(args) == 0 or len(args) % 3 != 0:
        sys.exit(__doc__)
    cases = [args[i:i + 3] for i in range(0, len(args), 3)]
    models = {}
    for name, model_path, _ in cases:
        models[name] = onnx.load(model_path)
        outputs = check_structure(name, models[name])
        print(f"{name}: onnx.checker passed; outputs {outputs}")
    try:
        import onnxruntime as ort
    except ImportError as e:
        print(f"SKIPPED: ONNX Runtime is not installed ({e}); the exported models were not run")
        return 77
    for name, model_path, csv_path in cases:
        inputs, labels, expected = read_outputs(csv_path)
        session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
        input_meta = session.get_inputs()[0]
        sample_shape = [int(d) for d in input_meta.shape[1:]]
        x = inputs.astype(np.float32).reshape([-1] + sample_shape)
        names = [o.name for o in session.get_outputs()]
        compared = "probabilities" if labels is not None else "outputs"
        assert compared in names, f"{name}: no output '{compared}' in {names}"
        got = session.run([compared], {"input": x})[0].astype(np.float64)
        # The batch axis is dynamic: one sample alone gives the same row.
        alone = session.run([compared], {"input": x[:1]})[0].astype(np.float64)
        assert np.allclose(alone[0], got[0], rtol=0, atol=TOLERANCE), f"{name}: a batch of one differs"
        # A model whose outputs barely change between samples would make the comparison hollow.
        spread = float(np.max(np.std(expected, axis=0)))
        assert spread > 1e-3, f"{name}: tinynn's outputs hardly vary between samples (spread {spread:.2g})"
        scale = np.maximum(1.0, np.abs(expected))
        worst = float(np.max(np.abs(got - expected) / scale))
        assert worst <= TOLERANCE, f"{name}: ONNX Runtime's {compared} differ from tinynn's by {worst:.3g} (> {TOLERANCE})"
        line = f"{name}: ONNX Runtime {ort.__version__} matches tinynn on {len(x)} test samples (max difference {worst:.2g})"
        if labels is not None:
            ours, theirs = (expected.argmax(1) == labels).mean(), (got.argmax(1) == labels).mean()
            assert ours == theirs, f"{name}: accuracy {theirs} under ONNX Runtime, {ours} in tinynn"
            line += f", accuracy {100 * theirs:.2f} % in both"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
