"""A faster twin of a model for training on CPU; the artifact keeps the stock model.

Two things made the default model's training step slow on this 2-core CPU (BENCHMARKS.md, issue 2):
- Keras 3's BatchNormalization computes its moments and normalizes with separate ops; on the
  default model it was half of each step. TensorFlow's fused kernel (`FusedBatchNormV3`) does the
  same maths in one pass.
- Float32 convolutions. With `precision="bfloat16"` the twin computes in bfloat16 (weights, the
  batch-norm statistics and the softmax stay float32: Keras mixed precision), which CPUs with
  AMX or AVX-512 BF16 run several times faster. Elsewhere bfloat16 is emulated, no faster and
  rounded differently, so `precision="auto"` (the default recipe's) picks it only on such CPUs.

The twin has the same weights in the same order as the model it came from, so after training
`stock.set_weights(twin.get_weights())` puts them back into the stock float32 model: serving,
export and loading never meet the fused layer or bfloat16.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from signlens.training.clone import copy_model

_POLICY: dict[str, str] = {"float32": "float32", "bfloat16": "mixed_bfloat16"}  # resolved precision -> Keras
#: CPU flags (Linux /proc/cpuinfo) of native bfloat16 arithmetic. Without them oneDNN emulates
#: bfloat16: no faster than float32, and its rounding differs from the native path.
_BF16_FLAGS = {"avx512_bf16", "amx_bf16"}
_CPUINFO = Path("/proc/cpuinfo")


def native_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 natively (Intel AVX-512 BF16 or AMX); False where unknown."""
    try:
        text = _CPUINFO.read_text()
    except OSError:
        return False
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return bool(_BF16_FLAGS & set(flags))


def resolve_precision(precision: str) -> str:
    """A config's precision as training uses it: "auto" is bfloat16 on native-bf16 CPUs, else float32."""
    if precision == "auto":
        return "bfloat16" if native_bfloat16() else "float32"
    return precision


class FusedBatchNormalization(keras.layers.BatchNormalization):
    """BatchNormalization whose training step runs TensorFlow's fused kernel.

    Only the common case is fused (4-D NHWC input, last axis, no mask or renorm); anything else,
    and inference, is the stock layer's own code."""

    def call(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        plain = len(inputs.shape) == 4 and self.axis in (-1, 3) and mask is None and not self.renorm
        if not (training and self.trainable and plain and self.scale and self.center):
            return super().call(inputs, training=training, mask=mask)
        # exponential_avg_factor folds the moving-average update into the kernel.
        outputs, moving_mean, moving_variance = tf.compat.v1.nn.fused_batch_norm(
            inputs,
            tf.cast(self.gamma, tf.float32),
            tf.cast(self.beta, tf.float32),
            mean=tf.cast(self.moving_mean, tf.float32),
            variance=tf.cast(self.moving_variance, tf.float32),
            epsilon=self.epsilon,
            is_training=True,
            exponential_avg_factor=1.0 - self.momentum,
        )
        self.moving_mean.assign(moving_mean)
        self.moving_variance.assign(moving_variance)
        return tf.cast(outputs, self.compute_dtype)


def training_twin(model: keras.Model, precision: str) -> keras.Model:
    """`model` rebuilt with fused batch norm and `precision`'s compute type (fresh weights copied
    from `model`, so a seeded build gives a seeded twin)."""
    policy = _POLICY[precision]

    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        config = layer.get_config()
        # the input keeps its dtype; the softmax stays float32, as mixed precision asks
        if not isinstance(layer, keras.layers.InputLayer) and layer.name != "probs":
            config["dtype"] = policy
        fused = type(layer) is keras.layers.BatchNormalization
        return (FusedBatchNormalization if fused else type(layer)).from_config(config)

    return copy_model(model, clone)
