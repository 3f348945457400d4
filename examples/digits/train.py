"""Train a small, deterministic CNN on scikit-learn's ``digits`` and export it to ONNX.

Run from the repo root: ``python examples/digits/train.py`` (needs torch==2.13.0).
Writes ``digits_cnn.onnx`` (opset 13, input ``input`` [1,1,8,8], output ``logits``
[1,10]) and ``digits_data.npz`` (train / calib / test splits) next to this file.
"""

import random
import time
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

HERE = Path(__file__).resolve().parent
ONNX_PATH = HERE / "digits_cnn.onnx"
DATA_PATH = HERE / "digits_data.npz"
SEED = 0
EPOCHS = 40
BATCH = 32
LR = 2e-3


def set_determinism(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


def load_splits() -> dict[str, np.ndarray]:
    digits = load_digits()
    x = (digits.images.astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)
    y = digits.target.astype(np.int64)
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=0.25, random_state=0, stratify=y
    )
    x_train, x_calib, y_train, y_calib = train_test_split(
        x_rest, y_rest, test_size=200, random_state=1, stratify=y_rest
    )
    return {
        "x_train": x_train, "y_train": y_train,
        "x_calib": x_calib, "y_calib": y_calib,
        "x_test": x_test, "y_test": y_test,
    }  # fmt: skip


class DigitsCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(32 * 2 * 2, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.flatten(self.features(x)))


def train(model: nn.Module, x: np.ndarray, y: np.ndarray) -> None:
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    gen = torch.Generator().manual_seed(SEED)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=EPOCHS)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)  # keeps logits small
    for epoch in range(EPOCHS):
        model.train()
        perm = torch.randperm(len(xt), generator=gen)
        total = 0.0
        for i in range(0, len(perm), BATCH):
            idx = perm[i : i + BATCH]
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        sched.step()
        if (epoch + 1) % 10 == 0:
            print(f"epoch {epoch + 1:3d}  train loss {total / len(xt):.4f}")


@torch.no_grad()
def predict(model: nn.Module, x: np.ndarray) -> np.ndarray:
    model.eval()
    return model(torch.from_numpy(x)).numpy()


def top1(logits: np.ndarray, y: np.ndarray) -> float:
    return float((logits.argmax(1) == y).mean()) * 100


def export(model: nn.Module) -> None:
    model.eval()
    with warnings.catch_warnings():  # legacy-exporter DeprecationWarning
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model,
            (torch.zeros(1, 1, 8, 8),),
            str(ONNX_PATH),
            input_names=["input"],
            output_names=["logits"],
            opset_version=13,
            training=torch.onnx.TrainingMode.EVAL,
            do_constant_folding=False,
            dynamo=False,
        )
    onnx.checker.check_model(onnx.load(str(ONNX_PATH)))


def main() -> None:
    set_determinism(SEED)
    data = load_splits()
    np.savez(DATA_PATH, **data)
    print({k: v.shape for k, v in data.items() if k.startswith("x")})

    model = DigitsCNN()
    t0 = time.perf_counter()
    train(model, data["x_train"], data["y_train"])
    print(f"training took {time.perf_counter() - t0:.1f} s")

    logits = predict(model, data["x_test"])
    calib_acc = top1(predict(model, data["x_calib"]), data["y_calib"])
    print(f"float calib top-1: {calib_acc:.2f}%")
    print(f"float test top-1: {top1(logits, data['y_test']):.2f}% ({len(logits)} imgs)")

    export(model)
    ops = sorted({n.op_type for n in onnx.load(str(ONNX_PATH)).graph.node})
    print(f"exported {ONNX_PATH.name}: ops {ops}")
    sess = ort.InferenceSession(str(ONNX_PATH), providers=["CPUExecutionProvider"])
    runs = [sess.run(["logits"], {"input": xi[None]})[0] for xi in data["x_test"]]
    ort_logits = np.concatenate(runs)
    diff = float(np.abs(ort_logits - logits).max())
    agree = top1(ort_logits, logits.argmax(1))
    print(f"onnxruntime vs torch: max abs diff {diff:.3e}, argmax agree {agree:.2f}%")
    if diff >= 1e-5:
        raise SystemExit(f"onnxruntime mismatch: max abs diff {diff} >= 1e-5")


if __name__ == "__main__":
    main()
