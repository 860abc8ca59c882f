"""comet_ml 3.32.5 against a Cairn server with a tiny metric-points limit: it backs off and stores all.

The server allows 40 points a second per key, bursts of 100 (set by the test). A live
comet_ml.Experiment logs three rounds of 300 points 2.5 s apart, each round one metric batch:
more than the limit lets through, so batches are refused with 429 and Retry-After. comet_ml sends
metric batches through a requests session with urllib3's Retry (3 retries), which retries a 429
that carries Retry-After and sleeps for the time it names. The check records, from inside
urllib3, every response it retried and every wait, and then asserts: at least one 429 was retried,
each wait was the Retry-After the server sent, and every point is stored exactly once (read back
through the REST API). Contract: env COMET_URL_OVERRIDE, COMET_API_KEY, CAIRN_WORKSPACE; own
uniquely named project; prints "OK backoff_check" at the end.
"""

import os
import secrets
import time

from urllib3.util.retry import Retry

import comet_ml
from comet_ml import API, APIExperiment

WORKSPACE = os.environ.get("CAIRN_WORKSPACE", "default")
PROJECT = "compat-backoff-%s" % secrets.token_hex(4)
ROUNDS = 3
PER_ROUND = 300

retried = []  # (status, Retry-After header) of each response urllib3 retried
waits = []  # seconds urllib3 slept before each retry on the server's word

original_increment = Retry.increment
original_sleep_for_retry = Retry.sleep_for_retry


def recording_increment(self, method=None, url=None, response=None, *args, **kwargs):
    if response is not None:
        retried.append((response.status, response.headers.get("Retry-After")))
    return original_increment(self, method, url, response, *args, **kwargs)


def recording_sleep_for_retry(self, response=None):
    asked = self.get_retry_after(response)
    slept = original_sleep_for_retry(self, response)
    if slept and asked is not None:
        waits.append(asked)
    return slept


Retry.increment = recording_increment
Retry.sleep_for_retry = recording_sleep_for_retry

exp = comet_ml.Experiment(
    workspace=WORKSPACE,
    project_name=PROJECT,
    auto_metric_logging=False,
    auto_param_logging=False,
    auto_output_logging=False,
    log_code=False,
    log_graph=False,
    log_git_metadata=False,
    log_git_patch=False,
    log_env_details=False,
    log_env_gpu=False,
    log_env_cpu=False,
    log_env_host=False,
    display_summary_level=0,
)
assert exp.alive, "the handshake failed: the experiment is not alive"
key = exp.id

started = time.time()
for round_ in range(ROUNDS):
    if round_ > 0:
        time.sleep(2.5)
    for i in range(PER_ROUND):
        step = round_ * PER_ROUND + i
        exp.log_metric("loss", step / 1000.0, step=step)
exp.end()
elapsed = time.time() - started

limited = [after for status, after in retried if status == 429]
assert limited, "no metric batch was refused with 429: the limit did not bite (retried: %r)" % retried
assert all(after is not None and int(after) >= 1 for after in limited), "429 without Retry-After: %r" % limited
assert [status for status, _ in retried if status != 429] == [], "other retried statuses: %r" % retried
assert waits == [float(after) for after in limited], "waits %r, asked %r" % (waits, limited)

api_exp = APIExperiment(api=API(cache=False), previous_experiment=key)
points = api_exp.get_metrics("loss")
steps = [m["step"] for m in points]
assert sorted(steps) == list(range(ROUNDS * PER_ROUND)), "stored %d points, steps %r..." % (len(steps), sorted(steps)[:10])
assert [float(m["metricValue"]) for m in sorted(points, key=lambda m: m["step"])] == [
    s / 1000.0 for s in range(ROUNDS * PER_ROUND)
], "values differ"

print("429s retried: %d, waits %r, %.1f s in all" % (len(limited), waits, elapsed))
print("OK backoff_check")
