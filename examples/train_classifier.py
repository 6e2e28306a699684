"""A small PyTorch image classifier with the numerical bugs that show up in real training code."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Classifier(nn.Module):
    def __init__(self, in_dim: int = 784, n_classes: int = 10):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(in_dim, 256), nn.ReLU(), nn.Linear(256, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # returns probabilities, because the evaluation code wants them
        return F.softmax(self.body(x), dim=-1)


def normalize_batch(x: torch.Tensor) -> torch.Tensor:
    mean = x.mean(dim=0, keepdim=True)
    std = x.std(dim=0, keepdim=True)
    return (x - mean) / std


def train_step(model: Classifier, optimizer, images, labels, pad_mask):
    optimizer.zero_grad()
    probs = model(normalize_batch(images))
    nll = F.nll_loss(torch.log(probs), labels, reduction="none")
    valid = (pad_mask != 0).float()
    loss = (nll * valid).sum() / valid.sum()
    loss.backward()
    optimizer.step()
    if loss.item() == float("nan"):
        raise FloatingPointError("loss is NaN")
    return loss.item()
