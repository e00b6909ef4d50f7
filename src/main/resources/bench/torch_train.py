"""PyTorch twin of `sparkvision bench train`: the same model layout, input, batch, class count and updater,
trained on random data for a fixed time; prints one line `TORCH_RESULT examples_per_s=<x> params=<n> threads=<t>`.

Run by io.sparkvision.bench.TorchReference (extracted from the product's jar/classes to a temp file):
    python3 torch_train.py MODEL CHANNELS HEIGHT WIDTH BATCH CLASSES THREADS SECONDS UPDATER
UPDATER `eval` times inference instead (`sparkvision bench infer`): `model.eval()` under `torch.no_grad()`, forward
passes only; the line then also carries `cpu_s_per_example=<x>` (the process's CPU time, all threads).
Exit code 3: no PyTorch twin for MODEL (the benchmark then prints "not measured").
"""
import sys
import time

import torch
import torch.nn as nn


def lenet5(c, h, classes):
    # The product's LeNet-5: 6 and 16 5x5 convolutions (the first padded to keep 28x28 like the 1998 32x32 input),
    # ReLU, 2x2 max pooling, 120-84 dense layers.
    pad = 2 if h <= 28 else 0
    side = ((h + 2 * pad - 4) // 2 - 4) // 2
    return nn.Sequential(
        nn.Conv2d(c, 6, 5, padding=pad), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(16 * side * side, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, classes))


def alexnet2012(c, h, classes):
    # The 2012 paper's ungrouped layout with local response normalisation, as the product's alexnet2012.
    def lrn():
        return nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0)
    features = nn.Sequential(
        nn.Conv2d(c, 96, 11, stride=4, padding=2), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2), nn.Flatten())
    with torch.no_grad():
        flat = features(torch.zeros(1, c, h, h)).shape[1]
    return nn.Sequential(features,
                         nn.Linear(flat, 4096), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(4096, classes))


def torchvision_model(name, classes):
    import torchvision.models as tv
    aliases = {'mobilenetv2': 'mobilenet_v2'}
    for depth in (11, 13, 16, 19):
        aliases['vgg%dbn' % depth] = 'vgg%d_bn' % depth
    tv_name = aliases.get(name, name)
    if name == 'googlenet':
        return tv.googlenet(num_classes=classes, aux_logits=False, init_weights=False)
    if not hasattr(tv, tv_name):
        return None
    return getattr(tv, tv_name)(num_classes=classes)


def build(name, c, h, classes):
    if name == 'lenet5':
        return lenet5(c, h, classes)
    if name == 'alexnet2012':
        return alexnet2012(c, h, classes)
    if c != 3:
        return None  # torchvision's models take RGB
    return torchvision_model(name, classes)


def optimizer(kind, params):
    if kind == 'adam':
        return torch.optim.Adam(params, lr=1e-3)
    if kind == 'nesterovs':
        return torch.optim.SGD(params, lr=1e-2, momentum=0.9, nesterov=True)
    return torch.optim.SGD(params, lr=1e-2)


def main(argv):
    name, c, h, w, batch, classes, threads, seconds, updater = argv[1:10]
    c, h, w, batch, classes, threads = int(c), int(h), int(w), int(batch), int(classes), int(threads)
    seconds = float(seconds)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = build(name, c, h, classes)
    if model is None:
        print('TORCH_NO_TWIN no PyTorch layout for %s at %dx%dx%d' % (name, c, h, w))
        return 3
    if updater == 'eval':
        return infer(model, c, h, w, batch, seconds)
    model.train()
    opt = optimizer(updater, model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(batch, c, h, w)
    y = torch.arange(batch) % classes

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    for _ in range(2):  # warm-up: oneDNN primitive creation, allocator
        step()
    examples, start = 0, time.perf_counter()
    while True:
        step()
        examples += batch
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            break
    params = sum(p.numel() for p in model.parameters())
    print('TORCH_RESULT examples_per_s=%.4f params=%d threads=%d' % (examples / elapsed, params, torch.get_num_threads()))
    return 0


def infer(model, c, h, w, batch, seconds):
    model.eval()
    x = torch.rand(batch, c, h, w)
    with torch.no_grad():
        for _ in range(2):  # warm-up: oneDNN primitive creation, allocator
            model(x)
        examples, start, cpu0 = 0, time.perf_counter(), time.process_time()
        while True:
            model(x)
            examples += batch
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                break
        cpu = time.process_time() - cpu0
    params = sum(p.numel() for p in model.parameters())
    print('TORCH_RESULT examples_per_s=%.4f params=%d threads=%d cpu_s_per_example=%.6f'
          % (examples / elapsed, params, torch.get_num_threads(), cpu / examples))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
