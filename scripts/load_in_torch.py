#!/usr/bin/env python3
"""Rebuild a Latent Lab model in PyTorch from `latentlab export --format safetensors`.

    python scripts/load_in_torch.py EXPORT_DIR          # load, then check against Latent Lab
    python -i scripts/load_in_torch.py EXPORT_DIR       # ... and keep `model` to play with

EXPORT_DIR holds model.safetensors (the weights), model.json (the architecture) and
check.safetensors (test samples with the codes and reconstructions Latent Lab computed). The
script needs only torch: it reads safetensors itself (a JSON header and raw little-endian
numbers; opening one never runs code, unlike a pickled .pt file). It prints the largest
difference between PyTorch's codes and reconstructions and Latent Lab's, and exits 1 when one
exceeds --tolerance.

In your own code:

    from load_in_torch import load
    model = load("EXPORT_DIR")          # an nn.Module in eval mode
    codes = model.encode(x)             # x: [batch, C, H, W] (or [batch, values])
    images = model.decode(codes)        # [batch, C, H, W], in [0, 1] for images
"""

import argparse
import json
import os
import struct
import sys

import torch
from torch import nn


def read_safetensors(path):
    """The tensors of a safetensors file, by name (F32 only, as Latent Lab writes)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    body = data[8 + n :]
    tensors = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        if t["dtype"] != "F32":
            raise ValueError(f"{path}: {name} is {t['dtype']}, expected F32")
        start, end = t["data_offsets"]
        values = torch.frombuffer(bytearray(body[start:end]), dtype=torch.float32)
        tensors[name] = values.reshape(t["shape"])
    return tensors


class DenseNet(nn.Module):
    """Linear layers with ReLU between them (none after the last), encoder and mirrored decoder."""

    def __init__(self, d):
        super().__init__()
        inputs = 1
        for s in d["input_shape"]:
            inputs *= s
        widths = [inputs] + d["hidden"] + [d["encoder_outputs"]]
        self.encoder = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, widths[1:]))
        back = [d["latent"]] + d["hidden"][::-1] + [inputs]
        self.decoder = nn.ModuleList(nn.Linear(a, b) for a, b in zip(back, back[1:]))

    @staticmethod
    def mlp(layers, x):
        for i, layer in enumerate(layers):
            x = layer(x)
            if i + 1 < len(layers):
                x = torch.relu(x)
        return x

    def encode(self, x):
        return self.mlp(self.encoder, x.flatten(1))

    def decode(self, z):
        return self.mlp(self.decoder, z)


class ConvNet(nn.Module):
    """Stride-2 3x3 convolutions with ReLU, a linear code; a linear layer with ReLU and mirrored
    transposed convolutions back (no activation after the last)."""

    def __init__(self, d):
        super().__init__()
        c = d["conv"]
        channels = [d["input_shape"][0]] + d["hidden"]
        self.down = nn.ModuleList(
            nn.Conv2d(a, b, c["kernel"], stride=c["stride"], padding=c["padding"])
            for a, b in zip(channels, channels[1:])
        )
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(
                b, a, c["kernel"], stride=c["stride"], padding=c["padding"],
                output_padding=c["output_padding"],
            )
            for a, b in reversed(list(zip(channels, channels[1:])))
        )
        f = 2 ** len(d["hidden"])
        self.inner = (channels[-1], d["input_shape"][1] // f, d["input_shape"][2] // f)
        flat = self.inner[0] * self.inner[1] * self.inner[2]
        self.to_latent = nn.Linear(flat, d["encoder_outputs"])
        self.from_latent = nn.Linear(d["latent"], flat)
        self.shape = d["input_shape"]

    def encode(self, x):
        x = x.reshape(x.shape[0], *self.shape)
        for conv in self.down:
            x = torch.relu(conv(x))
        return self.to_latent(x.flatten(1))

    def decode(self, z):
        x = torch.relu(self.from_latent(z)).reshape(z.shape[0], *self.inner)
        for i, deconv in enumerate(self.up):
            x = deconv(x)
            if i + 1 < len(self.up):
                x = torch.relu(x)
        return x.flatten(1)


class Autoencoder(nn.Module):
    """The network with Latent Lab's reading of its code and its outputs."""

    def __init__(self, d):
        super().__init__()
        self.description = d
        self.net = ConvNet(d) if d["network"] == "conv" else DenseNet(d)

    def encode(self, x):
        h = self.net.encode(x)
        code = self.description["code"]
        if code == "relu":
            return torch.relu(h)
        if code == "sigmoid":
            return torch.sigmoid(h)
        if code == "gaussian-mean":
            return h[:, : self.description["latent"]]
        return h

    def decode(self, z):
        out = self.net.decode(z)
        if self.description["output"] == "sigmoid":
            out = torch.sigmoid(out)
        return out.reshape(z.shape[0], *self.description["input_shape"])

    def forward(self, x):
        return self.decode(self.encode(x))


def load(export_dir):
    """The exported model as an `nn.Module` in eval mode."""
    with open(os.path.join(export_dir, "model.json")) as f:
        description = json.load(f)
    if description.get("format") != "latentlab-torch/1":
        raise ValueError(f"{export_dir}/model.json: not a Latent Lab export")
    model = Autoencoder(description)
    weights = read_safetensors(os.path.join(export_dir, "model.safetensors"))
    model.load_state_dict(weights, strict=True)
    return model.eval()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("export_dir")
    parser.add_argument("--tolerance", type=float, default=1e-5)
    args = parser.parse_args()
    global model
    model = load(args.export_dir)
    check = read_safetensors(os.path.join(args.export_dir, "check.safetensors"))
    with torch.no_grad():
        codes = model.encode(check["inputs"])
        outputs = model.decode(codes)
    code_diff = (codes - check["codes"]).abs().max().item()
    out_diff = (outputs - check["reconstructions"]).abs().max().item()
    n = check["inputs"].shape[0]
    print(
        f"{model.description['kind']} {model.description['network']}: {n} test samples, "
        f"largest difference from Latent Lab: codes {code_diff:.2e}, "
        f"reconstructions {out_diff:.2e}"
    )
    if max(code_diff, out_diff) > args.tolerance:
        print(f"FAIL: above the tolerance {args.tolerance:.0e}", file=sys.stderr)
        sys.exit(1)
    print(f"OK: within {args.tolerance:.0e}")


if __name__ == "__main__":
    main()
