"""A JAX policy-gradient loss with a log-softmax written the long way."""

import jax
import jax.numpy as jnp


def policy_loss(logits, actions, advantages):
    probs = jax.nn.softmax(logits, axis=-1)
    log_probs = jnp.log(probs)
    chosen = jnp.take_along_axis(log_probs, actions[:, None], axis=-1).squeeze(-1)
    return -jnp.mean(chosen * advantages)
