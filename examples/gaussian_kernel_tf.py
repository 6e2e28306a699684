"""TensorFlow kernel regression: a Gaussian kernel with the sign of the exponent lost."""

import tensorflow as tf


def kernel_matrix(x, centres, bandwidth=1.0):
    diff = tf.expand_dims(x, 1) - tf.expand_dims(centres, 0)
    sq_dist = tf.reduce_sum(tf.square(diff), axis=-1)
    return tf.exp(sq_dist / (2.0 * bandwidth ** 2))


def logistic_cost(x, y, w, b):
    h = tf.sigmoid(tf.matmul(x, w) + b)
    return -tf.reduce_mean(y * tf.math.log(h) + (1 - y) * tf.math.log(1 - h))
