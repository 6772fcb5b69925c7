"""Classical baselines printed beside the network (NumPy; statsmodels for SARIMA, statsforecast
for ETS and Theta)."""

import importlib.util
import warnings

import numpy as np

from kseq.evaluation.metrics import naive_forecast, seasonal_naive_forecast


def naive_baselines(history, test, season_length):
    """Multi-step and one-step naive and seasonal-naive forecasts of `test` after `history`.

    Returns:
        ``{name: {"multi_step": (steps,), "one_step": (steps,)}}`` for ``"naive"`` and, when
        ``season_length > 1``, ``"seasonal_naive"``. One-step forecasts use the true values.
    """
    history = np.asarray(history, dtype="float64").ravel()
    test = np.asarray(test, dtype="float64").ravel()
    full = np.concatenate([history, test])
    start = len(history)
    result = {
        "naive": {
            "multi_step": naive_forecast(history, len(test))[:, 0],
            "one_step": full[start - 1 : -1],
        }
    }
    if season_length > 1:
        result["seasonal_naive"] = {
            "multi_step": seasonal_naive_forecast(history, len(test), season_length)[:, 0],
            "one_step": full[start - season_length : len(full) - season_length],
        }
    return result


def sarima_available():
    return importlib.util.find_spec("statsmodels") is not None


def _fit_airline(history, season_length):
    """The airline model SARIMA(0,1,1)(0,1,1)ₘ fitted on the logs of `history` (positive)."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    logs = np.log(np.asarray(history, dtype="float64").ravel())
    model = SARIMAX(logs, order=(0, 1, 1), seasonal_order=(0, 1, 1, season_length))
    return model.fit(disp=False)


def sarima_airline(history, test, season_length):
    """The airline model SARIMA(0,1,1)(0,1,1)ₘ on log values, fitted on `history` only.

    Returns:
        ``{"multi_step": (steps,), "one_step": (steps,)}``; the one-step forecasts filter the
        test values with the parameters fitted on `history` (no refit).
    """
    start = len(np.asarray(history).ravel())
    test = np.log(np.asarray(test, dtype="float64").ravel())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = _fit_airline(history, season_length)
        multi = fitted.forecast(len(test))
        extended = fitted.append(test, refit=False)
        one = extended.predict(start=start, end=start + len(test) - 1)
    return {"multi_step": np.exp(multi), "one_step": np.exp(one)}


def sarima_airline_paths(history, series, origins, steps, season_length):
    """The airline model fitted on `history` (log values), then `steps` forecasts from each
    origin of `series` with those parameters (no refit): ``(origins, steps)``."""
    logs = np.log(np.asarray(series, dtype="float64").ravel())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = _fit_airline(history, season_length)
        paths = [fitted.apply(logs[:origin]).forecast(steps) for origin in origins]
    return np.exp(np.stack(paths))


# statsforecast's per-series models a recipe may list as baselines: name -> model class.
STATSFORECAST_MODELS = {"ets": "AutoETS", "theta": "AutoTheta"}
# How messages name them.
STATSFORECAST_LABELS = {"ets": "ETS", "theta": "Theta"}

# statsforecast's AutoETS fits no seasonal model past this period (as R's forecast::ets); the
# same bound keeps AutoTheta's classical decomposition to periods it can estimate.
MAX_STATSFORECAST_SEASON = 24


def statsforecast_available():
    return importlib.util.find_spec("statsforecast") is not None


def _fit_statsforecast(name, history, season_length):
    """statsforecast's model `name` (`STATSFORECAST_MODELS`), its form and parameters chosen
    by the model on `history` only."""
    import statsforecast.models

    model = getattr(statsforecast.models, STATSFORECAST_MODELS[name])
    season = season_length if season_length <= MAX_STATSFORECAST_SEASON else 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model(season_length=season).fit(np.asarray(history, dtype="float64").ravel())


def forecast_statsforecast(name, history, test, season_length):
    """statsforecast's AutoETS (``"ets"``, the model chosen by AICc) or AutoTheta
    (``"theta"``) fitted on `history` only.

    Returns:
        ``{"multi_step": (steps,), "one_step": (steps,)}``; each one-step forecast applies the
        fitted model to the series up to the point before it (no refit).
    """
    history = np.asarray(history, dtype="float64").ravel()
    full = np.concatenate([history, np.asarray(test, dtype="float64").ravel()])
    model = _fit_statsforecast(name, history, season_length)
    steps = len(full) - len(history)
    multi = model.predict(h=steps)["mean"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one = [
            model.forward(y=full[:stop], h=1)["mean"][0] for stop in range(len(history), len(full))
        ]
    return {"multi_step": np.asarray(multi, dtype="float64"), "one_step": np.asarray(one)}


def make_statsforecast_paths(name, history, series, origins, steps, season_length):
    """statsforecast's model `name` fitted on `history`, then `steps` forecasts from each
    origin of `series` with that model (no refit): ``(origins, steps)``."""
    series = np.asarray(series, dtype="float64").ravel()
    model = _fit_statsforecast(name, history, season_length)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        paths = [model.forward(y=series[:origin], h=steps)["mean"] for origin in origins]
    return np.stack(paths).astype("float64")


def forecast_ahead(name, history, steps, season_length):
    """`steps` forecasts after `history` of the baseline `name` fitted on all of it:
    ``(steps,)``. What `kseq forecast` gives when a run chose a baseline."""
    history = np.asarray(history, dtype="float64").ravel()
    if name == "naive":
        return naive_forecast(history, steps)[:, 0]
    if name == "seasonal_naive":
        return seasonal_naive_forecast(history, steps, season_length)[:, 0]
    if name in STATSFORECAST_MODELS:
        model = _fit_statsforecast(name, history, season_length)
        return np.asarray(model.predict(h=steps)["mean"], "float64")
    if name == "sarima":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.exp(_fit_airline(history, season_length).forecast(steps))
    raise ValueError(
        f"No baseline named {name!r}; one of naive, seasonal_naive, sarima, "
        f"{', '.join(STATSFORECAST_MODELS)}."
    )
