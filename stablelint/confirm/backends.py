"""Arrays, calls, gradients and NaN/Inf checks of one framework on one device, for the probe.

One class per framework (PyTorch, NumPy, JAX, TensorFlow) behind the same few methods; the
probe never branches on the framework except to watch PyTorch ops for broadcasts. Each
framework is imported only when its backend is made, in the child process.
"""

from __future__ import annotations

import math
import sys
from typing import Any, Callable


class Unavailable(Exception):
    """The requested device or framework is not available here (a SKIPPED verdict)."""


class Backend:
    framework = ""
    forward_only = False  # True: outputs are checked, gradients are not (NumPy)

    def __init__(self, device: str):
        self.device = device
        # what went NaN/Inf inside the last call, as "<framework>: <what it reported>" (NumPy, JAX)
        self.floating_events: list[str] = []

    # -- arrays ---------------------------------------------------------------------------
    def array(self, value: Any, dtype: str):
        raise NotImplementedError

    def differentiable(self, array: Any) -> bool:
        """Whether ``array`` is a float leaf whose gradient is checked."""
        return False

    def build(self, raw: dict[str, tuple], dtype: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The call's arguments, and the leaves whose gradients are checked."""
        arguments: dict[str, Any] = {}
        leaves: dict[str, Any] = {}
        for name, entry in raw.items():
            kind, value = entry[0], entry[1]
            own = entry[2] if len(entry) > 2 else None  # a configured dtype for this argument
            if kind == "fixed":
                arguments[name] = value
                continue
            array = self.array(value, own or ("int64" if kind == "labels" else dtype))
            if kind == "tensor" and self.differentiable(array):
                array = self.leaf(array)
                leaves[name] = array
            arguments[name] = array
        return arguments, leaves

    def leaf(self, array: Any) -> Any:
        return array

    # -- running --------------------------------------------------------------------------
    def call(self, function: Callable, arguments: dict[str, Any], leaves: dict[str, Any] | None = None):
        reseed()
        self.floating_events = []
        return function(**arguments)

    def gradients(self, output: Any, leaves: dict[str, Any]) -> dict[str, Any]:
        """Gradients of the sum of the float outputs with respect to each leaf (unused leaves left out)."""
        return {}

    # -- checks ---------------------------------------------------------------------------
    def host(self, item: Any):
        """``item`` as a NumPy array on the host (None when it is not a float or complex array)."""
        import numpy

        array = numpy.asarray(item)
        return array if array.dtype.kind in "fc" else None

    def non_finite(self, value: Any) -> str | None:
        """'NaN', 'inf' or '-inf' when ``value`` holds one (NaN first), else None."""
        found = None
        for item in arrays(value):
            kind = self._non_finite_one(item)
            if kind == "NaN":
                return kind
            found = found or kind
        return found

    def _non_finite_one(self, item: Any) -> str | None:
        if isinstance(item, float):
            return None if math.isfinite(item) else "NaN" if math.isnan(item) else ("inf" if item > 0 else "-inf")
        array = self.host(item)
        if array is None:
            return None
        import numpy

        if numpy.isnan(array).any():
            return "NaN"
        if numpy.isposinf(array).any():
            return "inf"
        return "-inf" if numpy.isneginf(array).any() else None

    def plain(self, value: Any) -> list[list[float]]:
        """Output arrays as float64 lists, for comparing two runs."""
        result = []
        for item in arrays(value):
            if isinstance(item, float):
                result.append([item])
                continue
            array = self.host(item)
            if array is not None:
                result.append(array.astype(float).reshape(-1).tolist())
        return result


class TorchBackend(Backend):
    framework = "torch"

    def __init__(self, device: str):
        import torch

        self.torch = torch
        super().__init__(_torch_device(torch, device))

    def array(self, value, dtype):
        return self.torch.tensor(value, dtype=getattr(self.torch, dtype), device=self.device)

    def differentiable(self, array):
        return array.is_floating_point()

    def call(self, function, arguments, leaves=None):
        owner = getattr(function, "__self__", None)
        if isinstance(owner, self.torch.nn.Module):  # a model's method: its weights on the inputs' device and
            floats = [a.dtype for a in arguments.values()  # dtype, as after model.to(device).half()
                      if isinstance(a, self.torch.Tensor) and a.is_floating_point()]
            owner.to(device=self.device, dtype=floats[0] if floats else None)
        return super().call(function, arguments)

    def leaf(self, array):
        return array.requires_grad_(True)

    def gradients(self, output, leaves):
        torch = self.torch
        parts = [t.sum() for t in arrays(output) if isinstance(t, torch.Tensor) and t.requires_grad]
        if not leaves or not parts:
            return {}
        total = sum(parts[1:], parts[0])
        grads = torch.autograd.grad(total, list(leaves.values()), allow_unused=True)
        return {name: grad for name, grad in zip(leaves, grads) if grad is not None}

    def host(self, item):
        torch = self.torch
        if not isinstance(item, torch.Tensor) or not (item.is_floating_point() or item.is_complex()):
            return None
        item = item.detach().cpu()
        return (item if item.is_complex() else item.double()).numpy()


class NumpyBackend(Backend):
    """Forward only; an overflow/invalid/divide NumPy reports inside the call is an event too."""

    framework = "numpy"
    forward_only = True

    def __init__(self, device: str):
        import numpy

        self.numpy = numpy
        super().__init__("cpu")

    def array(self, value, dtype):
        if dtype == "bfloat16":
            raise Unavailable("NumPy has no bfloat16")
        return self.numpy.array(value, dtype=getattr(self.numpy, dtype))

    def call(self, function, arguments, leaves=None):
        import warnings

        reseed()
        with self.numpy.errstate(over="warn", invalid="warn", divide="warn"), \
                warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RuntimeWarning)
            result = function(**arguments)
        self.floating_events = [f"NumPy: {w.message}" for w in caught if issubclass(w.category, RuntimeWarning)
                                and "encountered in" in str(w.message)]
        return result

    def plain(self, value):
        return [self.numpy.asarray(item, dtype=float).reshape(-1).tolist() for item in arrays(value)]


class JaxBackend(Backend):
    """``jax.grad`` of the summed float outputs; a function JAX cannot trace is checked forward only."""

    framework = "jax"

    def __init__(self, device: str):
        import jax
        import jax.numpy as jnp

        self.jax, self.jnp = jax, jnp
        self.placement, name = _jax_device(jax, device)
        super().__init__(name)

    def array(self, value, dtype):
        return self.jax.device_put(self.jnp.asarray(value, dtype=getattr(self.jnp, dtype)), self.placement)

    def differentiable(self, array):
        return self.jnp.issubdtype(array.dtype, self.jnp.floating)

    def call(self, function, arguments, leaves=None):
        """Run once with ``jax.debug_nans``: a NaN an operation makes inside the function is an event (as NumPy's
        invalid-value warnings are), even when the output comes out finite; a NaN constant is not."""
        self._call = (function, arguments)
        try:
            with self.jax.debug_nans(True):
                return super().call(function, arguments)
        except FloatingPointError as exc:
            first = str(exc).splitlines()[0] if str(exc) else ""
            output = super().call(function, arguments)  # the ordinary run, for the output and gradients
            primitive = first.rsplit(" in ", 1)[-1]
            if first.startswith("invalid value") and primitive in NAN_MAKING_PRIMITIVES:
                self.floating_events = [f"JAX: {first}"]
            return output

    def gradients(self, output, leaves):
        if not leaves or not self._floats(output):
            return {}
        jax, jnp = self.jax, self.jnp
        function, arguments = self._call

        def total(values: dict):
            parts = self._floats(function(**{**arguments, **values}))
            return sum((jnp.sum(p.astype(jnp.float32)) for p in parts[1:]), jnp.sum(parts[0].astype(jnp.float32)))
        reseed()
        untraceable = tuple(getattr(jax.errors, name) for name in (
            "ConcretizationTypeError", "TracerArrayConversionError", "TracerBoolConversionError",
            "TracerIntegerConversionError", "NonConcreteBooleanIndexError") if hasattr(jax.errors, name))
        try:
            grads = jax.grad(total)(dict(leaves))
        except untraceable:
            return {}  # the function leaves JAX (NumPy calls, Python control flow on values): forward only
        return dict(grads)

    def _floats(self, value) -> list:
        jnp = self.jnp
        return [a for a in arrays(value) if isinstance(a, self.jax.Array) and jnp.issubdtype(a.dtype, jnp.floating)]

    def host(self, item):
        jnp = self.jnp
        if not isinstance(item, self.jax.Array):
            return super().host(item) if hasattr(item, "dtype") else None
        if jnp.issubdtype(item.dtype, jnp.floating):
            item = item.astype(jnp.float32) if item.dtype.itemsize < 4 else item
        elif not jnp.issubdtype(item.dtype, jnp.complexfloating):
            return None
        import numpy

        return numpy.asarray(item)


# JAX primitives that can make a NaN from finite inputs (log or sqrt of a negative, 0 / 0, 0 * inf, inf - inf,
# acos outside [-1, 1]...). debug_nans reports the first primitive whose output holds a NaN; any other (a NaN
# constant made as a sentinel for padding, a jitted helper carrying it) is not a bug and is not reported.
NAN_MAKING_PRIMITIVES = {"log", "log1p", "sqrt", "rsqrt", "cbrt", "div", "rem", "pow", "integer_pow", "mul", "add",
                         "sub", "acos", "asin", "acosh", "atanh", "atan2", "lgamma", "digamma", "erf_inv",
                         "reduce_sum", "cumsum", "dot_general", "reduce_max", "reduce_min", "max", "min"}


class TensorFlowBackend(Backend):
    """The call runs under a ``tf.GradientTape`` watching the float arguments (Keras layers included)."""

    framework = "tensorflow"

    def __init__(self, device: str):
        import tensorflow as tf

        self.tf = tf
        self.placement, name = _tf_device(tf, device)
        super().__init__(name)

    def array(self, value, dtype):
        with self.tf.device(self.placement):
            return self.tf.constant(value, dtype=getattr(self.tf, dtype))

    def differentiable(self, array):
        return array.dtype.is_floating

    def call(self, function, arguments, leaves=None):
        tf = self.tf
        reseed()
        self._tape = self._total = None
        with tf.device(self.placement), tf.GradientTape() as tape:
            for leaf in (leaves or {}).values():
                tape.watch(leaf)
            output = function(**arguments)
            parts = [tf.reduce_sum(tf.cast(a, tf.float32)) for a in arrays(output)
                     if isinstance(a, tf.Tensor) and a.dtype.is_floating]
            if parts:
                self._tape, self._total = tape, tf.add_n(parts)
        return output

    def gradients(self, output, leaves):
        if not leaves or self._tape is None:
            return {}
        grads = self._tape.gradient(self._total, list(leaves.values()))
        return {name: grad for name, grad in zip(leaves, grads) if grad is not None}

    def host(self, item):
        tf = self.tf
        if not isinstance(item, (tf.Tensor, tf.Variable)):
            return super().host(item) if hasattr(item, "dtype") else None
        if item.dtype.is_floating:
            return tf.cast(item, tf.float64).numpy()
        return item.numpy() if item.dtype.is_complex else None


BACKENDS: dict[str, type[Backend]] = {b.framework: b for b in (TorchBackend, NumpyBackend, JaxBackend,
                                                                TensorFlowBackend)}


def make(framework: str, device: str) -> Backend:
    return BACKENDS[framework](device)


def _torch_device(torch, requested: str) -> str:
    if requested == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps is not None and mps.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise Unavailable("CUDA is not available to torch on this machine")
    if requested == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise Unavailable("MPS is not available to torch on this machine")
    return requested


def _jax_device(jax, requested: str):
    """(the jax.Device to place arrays on, the name a verdict shows)."""
    platforms = {"cuda": "gpu", "mps": "METAL", "cpu": "cpu"}
    order = ("cuda", "mps", "cpu") if requested == "auto" else (requested,)
    for name in order:
        try:
            devices = jax.devices(platforms[name])
        except RuntimeError:
            continue
        if devices:
            return devices[0], name
    raise Unavailable(f"{requested.upper()} is not available to JAX on this machine")


def _tf_device(tf, requested: str):
    """(the tf.device string, the name a verdict shows); TensorFlow shows Apple GPUs (tensorflow-metal) as GPU."""
    gpus = tf.config.list_physical_devices("GPU")
    if requested == "cpu" or (requested == "auto" and not gpus):
        return "/CPU:0", "cpu"
    if not gpus:
        raise Unavailable(f"{requested.upper()} is not available to TensorFlow on this machine")
    return "/GPU:0", "mps" if sys.platform == "darwin" else "cuda"


def reseed() -> None:
    """The same weights, dropout masks and random ops in every run, in whichever frameworks are loaded."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(0)
    tf = sys.modules.get("tensorflow")
    if tf is not None and hasattr(tf, "random"):
        tf.random.set_seed(0)


def arrays(value: Any):
    """The arrays and floats inside an output (tuples, lists, dicts, dataclass-like objects)."""
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from arrays(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from arrays(item)
    elif isinstance(value, float) or hasattr(value, "shape"):
        yield value
