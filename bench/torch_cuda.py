#!/usr/bin/env python3
"""The PyTorch reference benchmark (../shared/bench/torch_baseline.py) on a CUDA GPU.

Same models, data, modes and flags as the baseline; this wrapper only moves the data and the
models to the GPU and synchronises the device before every clock read, so the timers measure the
GPU's work and not just its launch:
  - training data and evaluation sets live on the GPU (batches are gathered there, as our loop does);
  - `train_step` waits for the step (forward, backward, Adam) to finish before returning;
  - `decode` copies the latent to the GPU and waits for the image, as a slider would.

The baseline's path comes from TORCH_BASELINE (default ../shared/bench/torch_baseline.py, relative
to the repository root). Usage: the baseline's, e.g. `torch_cuda.py throughput --model dense`.
"""
import importlib.util
import os
import sys

import torch

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
path = os.environ.get("TORCH_BASELINE", os.path.join(ROOT, "..", "shared", "bench", "torch_baseline.py"))
spec = importlib.util.spec_from_file_location("torch_baseline", path)
tb = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tb)

if not torch.cuda.is_available():
    sys.exit("torch_cuda.py: this PyTorch sees no CUDA device")
DEV = torch.device("cuda")

_load_data, _build_model, _train_step = tb.load_data, tb.build_model, tb.train_step


def load_data(args, name):
    return tuple(t.to(DEV) for t in _load_data(args, name))


def build_model(name, args):
    model = _build_model(name, args).to(DEV)
    decode = model.decode

    def synced_decode(z):
        out = decode(z.to(DEV))
        torch.cuda.synchronize()
        return out

    model.decode = synced_decode
    return model


def train_step(model, opt, x):
    loss = _train_step(model, opt, x)
    torch.cuda.synchronize()
    return loss


tb.load_data, tb.build_model, tb.train_step = load_data, build_model, train_step
tb.emit({"mode": "device", "cuda": torch.version.cuda, "gpu": torch.cuda.get_device_name(0)})
tb.main()
