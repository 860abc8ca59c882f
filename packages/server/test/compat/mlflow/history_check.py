"""get_metric_history across the client's 25,000-point pages, read back exactly through MLflow,
Comet and Foundry; the order MLflow returns (timestamp, step, value), the "latest" value of a run
(greatest step, then timestamp), and exact duplicates dropped.
"""

import math

from mlflow import MlflowClient
from mlflow.entities import Metric

from _compat import (REFERENCE, SUFFIX, T0, check, comet, eq, foundry_experiment, foundry_series, ok,
                     same_float, wire_float)

client = MlflowClient()
EXP = client.create_experiment(f"compat-history-{SUFFIX}")
RUN = client.create_run(EXP, run_name="long", start_time=T0).info.run_id

# 30,000 points: more than one page of get_metric_history (25,000). Full-precision values, one
# step and one millisecond apart, logged 1000 per log_batch (MLflow's limit).
N = 30_000
POINTS = [(math.sin(i) * 1e3 + i / 7, T0 + i, i) for i in range(N)]
for start in range(0, N, 1000):
    client.log_batch(RUN, metrics=[Metric("loss", v, t, s) for v, t, s in POINTS[start:start + 1000]])

history = client.get_metric_history(RUN, "loss")
eq(len(history), N, "points read back")
for (value, timestamp, step), metric in zip(POINTS, history):
    if (metric.value, metric.timestamp, metric.step) != (value, timestamp, step):
        raise AssertionError(f"point {step}: expected {(value, timestamp, step)}, got {metric}")
eq(client.get_run(RUN).data.metrics["loss"], POINTS[-1][0], "latest loss")

# Order (timestamp, step, value) whatever the logging order; latest = greatest (step, timestamp).
client.log_batch(RUN, metrics=[Metric("ooo", 3.0, T0 + 30, 0), Metric("ooo", 1.0, T0 + 10, 5),
                               Metric("ooo", 2.0, T0 + 20, 2), Metric("ooo", -1.0, T0 + 10, 5)])
eq([(m.value, m.timestamp, m.step) for m in client.get_metric_history(RUN, "ooo")],
   [(-1.0, T0 + 10, 5), (1.0, T0 + 10, 5), (2.0, T0 + 20, 2), (3.0, T0 + 30, 0)], "history order")
eq(client.get_run(RUN).data.metrics["ooo"], 1.0, "latest: greatest step, timestamp, then value")

# An exact duplicate (key, value, timestamp, step) is stored once; a point differing in one field is not a duplicate.
client.log_metric(RUN, "dup", 0.5, timestamp=T0, step=1)
client.log_metric(RUN, "dup", 0.5, timestamp=T0, step=1)
client.log_metric(RUN, "dup", 0.5, timestamp=T0 + 1, step=1)
eq([(m.value, m.timestamp, m.step) for m in client.get_metric_history(RUN, "dup")],
   [(0.5, T0, 1), (0.5, T0 + 1, 1)], "duplicates dropped")

# Special values keep their identity in the history.
client.log_batch(RUN, metrics=[Metric("special", float("nan"), T0, 0), Metric("special", float("-inf"), T0 + 1, 1),
                               Metric("special", 5e-324, T0 + 2, 2), Metric("special", -0.0, T0 + 3, 3)])
special = client.get_metric_history(RUN, "special")
check(math.isnan(special[0].value), f"NaN, got {special[0].value!r}")
check(special[1].value <= -1.7976931348623157e308, f"-inf (MLflow clamps it), got {special[1].value!r}")
same_float(special[2].value, 5e-324, "the smallest subnormal")
eq(special[3].value, 0.0, "negative zero")

if not REFERENCE:
    # Comet reads every point in one answer, in logging order.
    points = comet("experiment/metrics/get-metric", experimentKey=RUN, metricName="loss")["metrics"]
    eq(len(points), N, "Comet point count")
    for (value, timestamp, step), p in zip(POINTS, points):
        if (wire_float(p["metricValue"]), p["timestamp"], p["step"]) != (value, timestamp, step):
            raise AssertionError(f"Comet point {step}: expected {(value, timestamp, step)}, got {p}")
    # Foundry pages through the same series.
    points = foundry_series(EXP, RUN, "loss")
    eq(len(points), N, "Foundry point count")
    for (value, timestamp, step), p in zip(POINTS, points):
        if (wire_float(p["value"]), p["timestamp"], p["step"]) != (value, timestamp, step):
            raise AssertionError(f"Foundry point {step}: expected {(value, timestamp, step)}, got {p}")
    series = {s["name"]: s for s in foundry_experiment(EXP, RUN)["series"]}
    eq(series["loss"]["length"], N, "Foundry series length")
    eq(series["loss"]["value"]["last"], POINTS[-1][0], "Foundry last value")
    eq(series["loss"]["value"]["max"], max(p[0] for p in POINTS), "Foundry max")
    special = comet("experiment/metrics/get-metric", experimentKey=RUN, metricName="special")["metrics"]
    eq([p["metricValue"] for p in special][:2], ["NaN", "-Infinity"], "Comet special values")

ok("history_check")
