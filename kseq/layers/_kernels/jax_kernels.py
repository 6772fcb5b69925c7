"""JAX kernels: none. Keras compiles its recurrent loop into one jitted `lax.scan` and feeds a
`PyDataset` without per-batch Python overhead that matters (docs/speed.md)."""


def run_recurrent(layer, inputs, training):
    return None


def window_dataset(dataset):
    return None
