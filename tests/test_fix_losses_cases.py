"""The loss and shape fixes (SL301, SL302, SL304, SL310, SL401, SL402) on tricky code: what they
write for aliases, keywords and multi-line calls, and where they must offer no fix at all."""

from __future__ import annotations

import pytest
from fixing import findings, fix

# (rule, code): the rule fires, and no fix is offered, even with --unsafe-fixes.
DECLINES = {
    "sl302-model-forward-applies-sigmoid": ("SL302", """\
import torch
import torch.nn as nn


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 1)

    def forward(self, x):
        return torch.sigmoid(self.fc(x))


def f(head: Head, x, y):
    return nn.functional.binary_cross_entropy(head(x), y)
"""),
    "sl302-loss-object-shared-by-two-calls": ("SL302", """\
import torch
import torch.nn as nn

criterion = nn.BCELoss()


def f(a, y):
    return criterion(torch.sigmoid(a), y)


def g(p, y):
    return criterion(p, y)
"""),
    "sl302-loss-attribute-applied-elsewhere": ("SL302", """\
import torch
import torch.nn as nn


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 1)
        self.criterion = nn.BCELoss()

    def forward(self, x, y):
        return self.criterion(torch.sigmoid(self.fc(x)), y)


def evaluate(head, probs, y):
    return head.criterion(probs, y)
"""),
    "sl302-in-place-sigmoid": ("SL302", """\
import torch.nn.functional as F


def f(logits, y):
    loss = F.binary_cross_entropy(logits.sigmoid_(), y)
    return loss, logits
"""),
    "sl302-logits-changed-in-place": ("SL302", """\
import torch
import torch.nn.functional as F


def f(logits, y, mask):
    p = torch.sigmoid(logits)
    logits[mask] = 0.0
    loss = F.binary_cross_entropy(p, y)
    return loss, p
"""),
    "sl302-logits-aliased-then-changed": ("SL302", """\
import torch
import torch.nn.functional as F


def f(logits, y):
    p = torch.sigmoid(logits)
    logits.mul_(2)
    return F.binary_cross_entropy(p, y)
"""),
    "sl302-probabilities-from-another-scope": ("SL302", """\
import torch
import torch.nn.functional as F

logits = torch.randn(4)
p = torch.sigmoid(logits)


def f(logits, y):
    return F.binary_cross_entropy(p, y), p
"""),
    "sl302-clamped": ("SL302", """\
import torch
import torch.nn.functional as F


def f(logits, y):
    return F.binary_cross_entropy(torch.sigmoid(logits).clamp(1e-6, 1 - 1e-6), y)
"""),
    "sl302-keras-loss-also-compiled": ("SL302", """\
import tensorflow as tf

bce = tf.keras.losses.BinaryCrossentropy()
model = tf.keras.Sequential([tf.keras.layers.Dense(1, activation="sigmoid")])
model.compile(loss=bce)


def step(y, z):
    return bce(y, tf.sigmoid(z))
"""),
    "sl301-masked-softmax": ("SL301", """\
import jax
import optax


def f(logits, y, mask):
    probs = jax.nn.softmax(logits, axis=-1, where=mask)
    return optax.softmax_cross_entropy(probs, y).mean()
"""),
    "sl301-keras-softmax-layer-with-mask": ("SL301", """\
import tensorflow as tf


def f(z, y, mask):
    return tf.keras.losses.categorical_crossentropy(y, tf.keras.layers.Softmax()(z, mask), from_logits=True)
"""),
    "sl301-sequential-ends-in-softmax": ("SL301", """\
import torch.nn as nn

model = nn.Sequential(nn.Linear(3, 4), nn.Softmax(dim=1))


def f(x, y):
    return nn.functional.cross_entropy(model(x), y)
"""),
    "sl301-probabilities-used-and-logits-not-reusable": ("SL301", """\
import torch.nn.functional as F


def f(model, x, y):
    probs = F.softmax(model(x), dim=1)
    loss = F.cross_entropy(probs, y)
    return loss, probs.argmax(1)
"""),
    "sl304-softmax-layer-in-an-attribute": ("SL304", """\
import torch.nn as nn
import torch.nn.functional as F


class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.sm = nn.Softmax(dim=1)

    def forward(self, z, y):
        return F.nll_loss(self.sm(z), y)
"""),
    "sl310-per-sample-values-used-elsewhere": ("SL310", """\
import torch


def dice_loss(p, t):
    return 1 - 2 * (p * t).sum((1, 2, 3)) / (p.sum((1, 2, 3)) + t.sum((1, 2, 3)))


def train(m, x, y):
    loss = dice_loss(m(x), y)
    loss.backward()


def hardest(m, x, y):
    return dice_loss(m(x), y).topk(4)
"""),
    "sl401-augmented-assignment": ("SL401", """\
import torch.nn as nn

head = nn.Linear(8, 1)


def f(x, y):
    r = head(x)
    r -= y.view(-1)
    return r.pow(2).mean()
"""),
    "sl402-statistic-used-elsewhere": ("SL402", """\
import torch


def f(x):
    m = x.mean(1)
    return x - m, m
"""),
}


@pytest.mark.parametrize(("rule", "code"), DECLINES.values(), ids=DECLINES.keys())
def test_no_fix_where_it_could_be_wrong(rule, code):
    assert rule in [c for c, _ in findings(code)]
    assert fix(code, unsafe=True, select=(rule,)) == code


# (rule, code, fixed): exactly what --fix --unsafe-fixes writes.
FIXES = {
    "sl302-functional-module-alias-keywords": ("SL302", """\
import torch
from torch.nn import functional


def f(logits, y, w):
    return functional.binary_cross_entropy(target=y, input=torch.sigmoid(logits), weight=w)
""", """\
import torch
from torch.nn import functional


def f(logits, y, w):
    return functional.binary_cross_entropy_with_logits(target=y, input=logits, weight=w)
"""),
    "sl302-multi-line-call-with-comments": ("SL302", """\
import torch
import torch.nn.functional as F


def f(logits, y):
    return F.binary_cross_entropy(
        torch.sigmoid(logits),  # probabilities
        y,  # targets
        reduction="sum",
    )
""", """\
import torch
import torch.nn.functional as F


def f(logits, y):
    return F.binary_cross_entropy_with_logits(
        logits,  # probabilities
        y,  # targets
        reduction="sum",
    )
"""),
    "sl302-keras-from-logits-positional": ("SL302", """\
import tensorflow as tf


def f(y, z):
    return tf.keras.losses.binary_crossentropy(y, tf.nn.sigmoid(z), False, 0.1)
""", """\
import tensorflow as tf


def f(y, z):
    return tf.keras.losses.binary_crossentropy(y, z, True, 0.1)
"""),
    "sl302-loss-object-built-in-the-function": ("SL302", """\
import torch
import torch.nn as nn


def train(model, loader):
    criterion = nn.BCELoss(reduction="sum")
    for x, y in loader:
        loss = criterion(torch.sigmoid(model(x)), y)
        loss.backward()
""", """\
import torch
import torch.nn as nn


def train(model, loader):
    criterion = nn.BCEWithLogitsLoss(reduction="sum")
    for x, y in loader:
        loss = criterion(model(x), y)
        loss.backward()
"""),
    "sl301-shared-loss-object-only-the-softmax-goes": ("SL301", """\
import torch
import torch.nn as nn

criterion = nn.CrossEntropyLoss()


def f(z, y):
    return criterion(torch.softmax(z, -1), y)


def g(z, y):
    return criterion(z, y)
""", """\
import torch
import torch.nn as nn

criterion = nn.CrossEntropyLoss()


def f(z, y):
    return criterion(z, y)


def g(z, y):
    return criterion(z, y)
"""),
    "sl301-named-tensorflow-softmax": ("SL301", """\
import tensorflow as tf


def f(z, y):
    return tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=tf.nn.softmax(z, axis=-1, name="probs"))
""", """\
import tensorflow as tf


def f(z, y):
    return tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=z)
"""),
    "sl304-imported-softmax": ("SL304", """\
from torch.nn.functional import nll_loss, softmax


def f(z, y):
    return nll_loss(softmax(z, dim=1), y)
""", """\
from torch.nn.functional import nll_loss, log_softmax


def f(z, y):
    return nll_loss(log_softmax(z, dim=1), y)
"""),
    "sl304-imported-softmax-used-elsewhere": ("SL304", """\
from torch.nn.functional import nll_loss, softmax


def f(z, y):
    return nll_loss(softmax(z, dim=1), y), softmax(z, dim=1).max()
""", """\
from torch.nn.functional import log_softmax, nll_loss, softmax


def f(z, y):
    return nll_loss(log_softmax(z, dim=1), y), softmax(z, dim=1).max()
"""),
    "sl302-imported-loss-class-renamed-in-its-import": ("SL302", """\
import torch
from torch.nn import BCELoss

criterion = BCELoss()


def step(logits, y):
    return criterion(torch.sigmoid(logits), y)
""", """\
import torch
from torch.nn import BCEWithLogitsLoss

criterion = BCEWithLogitsLoss()


def step(logits, y):
    return criterion(logits, y)
"""),
    "sl310-backward-in-a-torch-mean-file": ("SL310", """\
import torch
import torch.nn as nn


def train(model, loader):
    criterion = nn.CrossEntropyLoss(reduction="none")
    for x, y in loader:
        loss = criterion(model(x), y)
        loss.backward()
        print(torch.mean(loss))
""", """\
import torch
import torch.nn as nn


def train(model, loader):
    criterion = nn.CrossEntropyLoss(reduction="none")
    for x, y in loader:
        loss = criterion(model(x), y)
        loss.mean().backward()
        print(torch.mean(loss))
"""),
    "sl402-array-of-either-framework": ("SL402", """\
import numpy as np
import torch


def normalize(x):
    return x / x.sum(1)
""", """\
import numpy as np
import torch


def normalize(x):
    return x / x.sum(1, keepdims=True)
"""),
    "sl402-torch-norm-keeps-keepdim": ("SL402", """\
import numpy as np
import torch


def normalize(x):
    return x / x.norm(2, 1)
""", """\
import numpy as np
import torch


def normalize(x):
    return x / x.norm(2, 1, keepdim=True)
"""),
}


@pytest.mark.parametrize(("rule", "code", "fixed"), FIXES.values(), ids=FIXES.keys())
def test_fix_output(rule, code, fixed):
    assert rule in [c for c, _ in findings(code)]
    assert fix(code, unsafe=True, select=(rule,)) == fixed
    assert rule not in [c for c, _ in findings(fixed)]
