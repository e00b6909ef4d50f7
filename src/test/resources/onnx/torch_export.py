"""Builds a torchvision model with a fixed seed (no weights download), exports it to ONNX the way docs/onnx-import.md
tells users to, and writes PyTorch's own eval-mode logits on seeded images, for OnnxImportTest to compare against.

usage: torch_export.py OUT_DIR ARCH SIZE [preserve|folded]
writes OUT_DIR/ARCH.onnx, OUT_DIR/ARCH.input.f32 (N x 3 x SIZE x SIZE) and OUT_DIR/ARCH.logits.f32 (N x 1000), float32
little-endian, and OUT_DIR/ARCH.logits.f64 (the same network computed in float64), and prints one line "exported ARCH images=N classes=C size=S".
"""
import sys

import torch
import torchvision

out_dir, arch, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
mode = sys.argv[4] if len(sys.argv) > 4 else "preserve"
torch.manual_seed(1234)
torch.set_num_threads(2)
model = getattr(torchvision.models, arch)(weights=None)
# Fresh BatchNorm layers hold mean 0 / variance 1 / gamma 1 / beta 0, which would hide a mix-up of the four tensors:
# give every statistic its own random values so the comparison proves they are imported where they belong.
with torch.no_grad():
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_(0.0, 0.2)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.uniform_(0.5, 1.5)
            m.bias.normal_(0.0, 0.2)
model.eval()
images = torch.randn(4, 3, size, size)
with torch.no_grad():
    logits = model(images)
    # the same network in float64: how far float32 arithmetic itself is from the exact answer (PyTorch's own error)
    exact = model.double()(images.double())
    model.float()
onnx_path = f"{out_dir}/{arch}.onnx"
# The export traces one 224x224 image as users do: the weights do not depend on it, and torch 1.13 cannot export
# VGG's and AlexNet's adaptive pools for inputs whose feature map does not divide 7 (6), such as 32x32.
dummy = torch.randn(1, 3, 224, 224)
if mode == "preserve":
    # The export docs/onnx-import.md asks for: BatchNormalization nodes kept, with their running statistics.
    torch.onnx.export(model, dummy, onnx_path, training=torch.onnx.TrainingMode.PRESERVE,
                      do_constant_folding=False, input_names=["input"], output_names=["logits"])
else:
    # torch.onnx.export's default in eval mode: BatchNorm folded into the convolutions (what the importer refuses).
    torch.onnx.export(model, dummy, onnx_path, input_names=["input"], output_names=["logits"])
images.numpy().astype("<f4").tofile(f"{out_dir}/{arch}.input.f32")
logits.numpy().astype("<f4").tofile(f"{out_dir}/{arch}.logits.f32")
exact.numpy().astype("<f8").tofile(f"{out_dir}/{arch}.logits.f64")
print(f"exported {arch} images={images.shape[0]} classes={logits.shape[1]} size={size}")
