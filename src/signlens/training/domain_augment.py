"""Domain-robust training: make Sign-MNIST batches look like the many ways real photos differ.

Sign-MNIST comes from ~1,700 photos of a few hands in front of similar light walls; a model
trained only on it learns that setting and collapses on other photos (8-15% on the dev photos).
The photo preprocessing removes most of the gap (crop to the hand, flatten the background); this
augmentation teaches the model the rest. It needs no hand masks, which 28×28 Sign-MNIST images
do not have:

* background darkening/replacement - pixels below a random brightness percentile fade to a random
  flat level (dark, mid or light), as a segmented or evenly lit background looks;
* lighting and contrast - random gamma, contrast and brightness;
* scale and position - random zoom out with the background level as fill, and shift;
* blur - a random Gaussian blur, as webcams and 28×28 downscaling soften edges.

Applied per batch, to half of the images, in `pipeline.TrainBatches` when `TrainConfig.domain_augment`
is on; never saved in the model.
"""

from __future__ import annotations

import tensorflow as tf


def _per_image(shape: tf.Tensor, low: float, high: float, seed: tf.Tensor) -> tf.Tensor:
    return tf.random.stateless_uniform([shape[0], 1, 1, 1], seed, low, high)


def _gaussian_blur(x: tf.Tensor, sigma: tf.Tensor) -> tf.Tensor:
    """Blur each image with its own sigma (0 leaves it unchanged); 5×5 separable kernel."""
    r = tf.range(-2.0, 3.0)
    k = tf.exp(-(r[None, :] ** 2) / (2.0 * tf.maximum(sigma[:, 0, 0, :], 1e-3) ** 2))  # (N, 5)
    k = k / tf.reduce_sum(k, axis=1, keepdims=True)
    pad = tf.pad(x, [[0, 0], [2, 2], [2, 2], [0, 0]], mode="SYMMETRIC")
    rows = sum(pad[:, :, i : i + 28, :] * k[:, i, None, None, None] for i in range(5))
    return sum(rows[:, i : i + 28, :, :] * k[:, i, None, None, None] for i in range(5))


def _zoom_shift(x: tf.Tensor, fill: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Zoom out to 70-100% and shift by up to 10%, filling the uncovered border with `fill`."""
    n = tf.shape(x)[0]
    scale = tf.random.stateless_uniform([n], seed, 1.0, 1.0 / 0.7)  # >1: the image shrinks
    shift = tf.random.stateless_uniform([n, 2], seed + 1, -2.8, 2.8)
    centre = 13.5 * (1.0 - scale)
    zeros = tf.zeros([n])
    # projective transform rows map output -> input coordinates
    transforms = tf.stack([scale, zeros, centre + shift[:, 0], zeros, scale, centre + shift[:, 1], zeros, zeros], 1)
    shifted = x - fill  # fill with 0 then add the level back: a per-image fill value
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=shifted, transforms=transforms, output_shape=[28, 28], interpolation="BILINEAR",
        fill_mode="CONSTANT", fill_value=0.0,
    )
    return out + fill


def augment(x: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """(N, 28, 28, 1) float32 in 0..255 -> the same, with a random photo-domain look per image."""
    shape = tf.shape(x)
    seeds = tf.random.experimental.stateless_split(seed, 11)
    original = x
    x = x / 255.0
    # background darkening/replacement: below a random percentile, fade to a flat level
    flat = tf.reshape(x, [shape[0], -1])
    q = _per_image(shape, 0.2, 0.6, seeds[0])
    sorted_px = tf.sort(flat, axis=1)
    idx = tf.cast(q[:, 0, 0, 0] * 783.0, tf.int32)
    cut = tf.gather(sorted_px, idx, batch_dims=1)[:, None, None, None]
    level = tf.where(_per_image(shape, 0, 1, seeds[1]) < 0.6, _per_image(shape, 0.0, 0.15, seeds[2]),
                     _per_image(shape, 0.3, 0.8, seeds[3]))
    soft = tf.clip_by_value((x - cut) / 0.08 + 0.5, 0.0, 1.0)  # 0 = background, 1 = hand
    replace = _per_image(shape, 0, 1, seeds[4]) < 0.7
    x = tf.where(replace, soft * x + (1 - soft) * level, x)
    # scale and position; the uncovered border takes the background's level
    border = tf.reduce_mean(tf.concat([x[:, 0, :, :], x[:, -1, :, :]], axis=1), axis=[1, 2])[:, None, None, None]
    x = _zoom_shift(x, tf.where(replace, level, border), seeds[8])
    # lighting and contrast
    x = tf.pow(tf.clip_by_value(x, 1e-4, 1.0), _per_image(shape, 0.6, 1.6, seeds[5]))
    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    x = (x - mean) * _per_image(shape, 0.7, 1.3, seeds[6]) + mean + _per_image(shape, -0.1, 0.1, seeds[7])
    # blur in half of the images
    sigma = _per_image(shape, 0.0, 0.8, seeds[9]) * tf.cast(_per_image(shape, 0, 1, seeds[2] + 1) < 0.5, tf.float32)
    x = _gaussian_blur(x, sigma)
    # half the images stay as they are, so Sign-MNIST itself is still learned to the full
    return tf.where(_per_image(shape, 0, 1, seeds[10]) < 0.5, original, tf.clip_by_value(x, 0.0, 1.0) * 255.0)

