"""Hidden Dense layers shared by the heads."""

from kseq._keras import keras


def make_dense_stack(dense_units, activation, dropout, seed, prefix):
    """Returns hidden ``Dense`` (+ ``Dropout``) layers for `dense_units`."""
    units = [dense_units] if isinstance(dense_units, int) else list(dense_units)
    if any(isinstance(u, bool) or not isinstance(u, int) or u < 1 for u in units):
        raise ValueError(
            f"`dense_units` must be a list of positive integers. Received: {dense_units!r}"
        )
    if isinstance(dropout, bool) or not 0.0 <= dropout < 1.0:
        raise ValueError(f"`dropout` must be a rate in [0, 1). Received: dropout={dropout!r}")
    layers = []
    for i, layer_units in enumerate(units):
        layers.append(
            keras.layers.Dense(layer_units, activation=activation, name=f"{prefix}_dense_{i}")
        )
        if dropout:
            layers.append(
                keras.layers.Dropout(
                    dropout, seed=None if seed is None else seed + i, name=f"{prefix}_dropout_{i}"
                )
            )
    return units, layers


def build_stack(layers, input_shape):
    """Builds `layers` in order from `input_shape`."""
    shape = tuple(input_shape)
    for layer in layers:
        layer.build(shape)
        shape = layer.compute_output_shape(shape)


def apply_stack(layers, inputs, training=None):
    """Applies `layers` in order (Dropout layers see `training`)."""
    x = inputs
    for layer in layers:
        x = layer(x, training=training)
    return x
