"""Builders of uncompiled functional forecasting models."""

from kseq._keras import keras
from kseq.layers import MixtureDensityHead, PointHead, QuantileHead, SequenceHead, StackedRNN

# Each head takes the options its kind needs.
_HEADS = {
    "point": lambda quantiles, num_components, **options: PointHead(**options),
    "quantile": lambda quantiles, num_components, **options: QuantileHead(quantiles, **options),
    "mixture": lambda quantiles, num_components, **options: MixtureDensityHead(
        num_components, **options
    ),
}
HEADS = tuple(_HEADS)


def build_forecaster(
    lookback,
    num_features=1,
    horizon=1,
    num_targets=1,
    *,
    cell="lstm",
    units=(50,),
    dropout=0.0,
    input_dropout=0.0,
    recurrent_dropout=0.0,
    forget_bias=None,
    head="point",
    dense_units=(),
    dense_activation="relu",
    quantiles=(0.1, 0.5, 0.9),
    num_components=1,
    num_series=0,
    series_embedding=0,
    seed=None,
    name="forecaster",
):
    """Builds ``(batch, lookback, num_features) → (batch, horizon, num_targets[, ...])``.

    With `series_embedding` > 0 the model has a second input, ``"series"`` (``(batch, 1)``
    int, the series' index in ``[0, num_series)``), whose learned vector is appended to every
    input step: the global model of a panel can then learn what sets each series apart.

    A `StackedRNN` body returning its last step, then a head: ``"point"`` (`PointHead`),
    ``"quantile"`` (`QuantileHead`, adds an axis of ``len(quantiles)``) or ``"mixture"``
    (`MixtureDensityHead`, adds an axis of ``3 · num_components``). The head knows its loss
    (``head_of(model).default_loss()``).

    Args:
        lookback: input steps, or `None` for any length.
        num_features: input columns.
        horizon: output steps (``> 1``: a direct multi-step head).
        num_targets: output columns.
        cell, units, dropout, input_dropout, recurrent_dropout, forget_bias: as `StackedRNN`.
        head: ``"point"``, ``"quantile"`` or ``"mixture"``.
        dense_units: hidden Dense layers of the head.
        dense_activation: their activation.
        quantiles: levels of the quantile head.
        num_components: components of the mixture head.
        num_series: series the ``"series"`` input indexes (with `series_embedding`).
        series_embedding: size of each series' learned vector; 0 for none.
        seed: seed of every dropout.
        name: model name.

    Returns:
        An uncompiled `keras.Model`.
    """
    if head not in HEADS:
        raise ValueError(f"`head` must be one of {HEADS}. Received: head={head!r}")
    inputs = keras.Input((lookback, num_features), name="history")
    body_inputs = inputs
    if series_embedding:
        inputs, body_inputs = _add_series_input(inputs, num_series, series_embedding, seed)
    features = StackedRNN(
        units,
        cell=cell,
        dropout=dropout,
        input_dropout=input_dropout,
        recurrent_dropout=recurrent_dropout,
        forget_bias=forget_bias,
        seed=seed,
        name="body",
    )(body_inputs)
    options = {
        "horizon": horizon,
        "num_targets": num_targets,
        "dense_units": dense_units,
        "activation": dense_activation,
        "seed": seed,
        "name": "head",
    }
    outputs = _HEADS[head](quantiles=quantiles, num_components=num_components, **options)(features)
    return keras.Model(inputs, outputs, name=name)


def _add_series_input(history, num_series, series_embedding, seed):
    """``(inputs, body_inputs)``: `history` with a ``"series"`` input (``(batch, 1)`` int)
    whose learned vector is appended to every step of `history`."""
    lookback = history.shape[1]
    if num_series < 1 or lookback is None:
        raise ValueError(
            "A series embedding needs `num_series` >= 1 and a fixed `lookback`. Received: "
            f"num_series={num_series!r}, lookback={lookback!r}"
        )
    series = keras.Input((1,), dtype="int32", name="series")
    vectors = keras.layers.Embedding(
        num_series,
        series_embedding,
        embeddings_initializer=keras.initializers.RandomUniform(-0.05, 0.05, seed=seed),
        name="series_embedding",
    )(series)  # (batch, 1, series_embedding)
    vectors = keras.layers.Reshape((series_embedding,))(vectors)
    vectors = keras.layers.RepeatVector(lookback)(vectors)
    body_inputs = keras.layers.Concatenate(axis=-1)([history, vectors])
    return {"history": history, "series": series}, body_inputs


def build_seq2seq(
    num_features=1,
    num_targets=1,
    *,
    lookback=None,
    cell="simple_rnn",
    units=(10,),
    dropout=0.0,
    recurrent_dropout=0.0,
    forget_bias=None,
    dense_units=(20,),
    dense_activation="relu",
    seed=None,
    name="seq2seq",
):
    """Builds ``(batch, time, num_features) → (batch, time, num_targets)``, one output per step.

    A `StackedRNN` returning sequences, then a `SequenceHead`.

    Args:
        num_features: input columns.
        num_targets: output columns per step.
        lookback: steps per sequence, or `None` for any length.
        cell, units, dropout, recurrent_dropout, forget_bias: as `StackedRNN`.
        dense_units, dense_activation: hidden layers of the per-step head.
        seed: seed of every dropout.
        name: model name.

    Returns:
        An uncompiled `keras.Model`.
    """
    inputs = keras.Input((lookback, num_features), name="sequence")
    features = StackedRNN(
        units,
        cell=cell,
        dropout=dropout,
        recurrent_dropout=recurrent_dropout,
        forget_bias=forget_bias,
        return_sequences=True,
        seed=seed,
        name="body",
    )(inputs)
    outputs = SequenceHead(
        num_targets, dense_units=dense_units, activation=dense_activation, seed=seed, name="head"
    )(features)
    return keras.Model(inputs, outputs, name=name)


def build_ensemble(models, name="ensemble"):
    """Averages the outputs of models with the same inputs and outputs (e.g. trained with
    different seeds) into one model; its `head_of` is the first member's head.

    Averaging suits point and quantile heads, not mixture parameters.
    """
    names = [model.name for model in models]
    if len(set(names)) != len(names):
        raise ValueError(f"Ensemble members need distinct names. Received: {names}")
    inputs = keras.Input(models[0].input_shape[1:], name="history")
    outputs = keras.layers.Average(name="average")([model(inputs) for model in models])
    return keras.Model(inputs, outputs, name=name)


def head_of(model):
    """Returns the head layer of a model built here (of its first member for ensembles).

    The head owns the decoding of the model's outputs: ``head_of(model).default_loss()``,
    ``.point_forecast(outputs)`` and ``.quantile_forecast(outputs, levels)``.
    """
    try:
        return model.get_layer("head")
    except ValueError:
        members = [layer for layer in model.layers if isinstance(layer, keras.Model)]
        if not members:
            raise
        return head_of(members[0])


def build_forecaster_from_section(
    section, *, lookback, num_features, horizon, num_targets, seed, name, num_series=0
):
    """Builds `build_forecaster` from a validated recipe ``[model]`` section (registered as
    the ``forecaster``, ``airpassengers_tutorial`` and ``sine_study`` builders, which differ
    only in the keys they fix; see `kseq.models.registry`)."""
    return build_forecaster(
        lookback,
        num_features,
        horizon,
        num_targets,
        cell=section.cell,
        units=section.layer_units,
        dropout=section.dropout,
        input_dropout=section.input_dropout,
        recurrent_dropout=section.recurrent_dropout,
        forget_bias=section.forget_bias,
        head=section.head,
        dense_units=section.dense_units,
        dense_activation=section.dense_activation,
        quantiles=section.quantiles,
        num_components=section.num_components,
        num_series=num_series,
        series_embedding=section.series_embedding,
        seed=seed,
        name=name,
    )
