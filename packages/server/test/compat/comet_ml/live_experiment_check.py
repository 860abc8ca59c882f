"""comet_ml 3.32.5 against Cairn: live logging with Experiment, ExistingExperiment and comet upload.

A default comet_ml.Experiment in a git repository with a dirty file logs metrics (steps, epochs,
contexts; 50 metrics per step for 300 steps), parameters, others, tags, an asset, an image, HTML,
a model graph, stdout and stderr, system details, git metadata and patch, then ends. Everything
is read back through the REST API (comet_ml.API / APIExperiment) and compared exactly. An
ExistingExperiment then appends to the same run, and an OfflineExperiment's archive is uploaded
with `comet upload` and read back the same way. Prints "THROUGHPUT <n> points/s" for the
50-metric loop (logging until the server has stored every point). Contract: env
COMET_URL_OVERRIDE, COMET_API_KEY, CAIRN_WORKSPACE; own uniquely named project; prints
"OK live_experiment_check" at the end.
"""

import inspect
import io
import json
import os
import secrets
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
import zlib

import comet_ml
from comet_ml import API, APIExperiment

WORKSPACE = os.environ.get("CAIRN_WORKSPACE", "default")
PROJECT = "compat-live-%s" % secrets.token_hex(4)
API_KEY = os.environ["COMET_API_KEY"]
TMP = tempfile.mkdtemp(prefix="cairn-live-")
STEPS = 300
WIDE = 50

api = API(cache=False)


def write_file(path, data):
    with open(path, "wb") as handle:
        handle.write(data)
    return path


def git(*args):
    return subprocess.run(
        ["git", *args], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout.strip()


def tiny_png(width=2, height=2):
    """A valid RGB PNG built with the standard library (no numpy or PIL in the venv)."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes([255, 0, 0]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def wide_value(i, step):
    return i + step / 1000.0


def values_of(api_experiment, metric):
    return [float(m["metricValue"]) for m in api_experiment.get_metrics(metric)]


def summary(rows):
    return {row["name"]: row["valueCurrent"] for row in rows}


def fetch(url):
    request = urllib.request.Request(url, headers={"Authorization": API_KEY})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


# --- a git repository with a committed file and an uncommitted change --------------------------
REPO = os.path.join(TMP, "repo")
os.makedirs(REPO)
git("init", "-q")
git("config", "user.email", "ada@example.test")
git("config", "user.name", "Ada")
write_file(os.path.join(REPO, "train.txt"), b"epochs = 1\n")
git("add", "train.txt")
git("commit", "-q", "-m", "first")
write_file(os.path.join(REPO, "train.txt"), b"epochs = 2\n")
HEAD = git("rev-parse", "HEAD")
BRANCH = git("rev-parse", "--abbrev-ref", "HEAD")
os.chdir(REPO)

# --- the live run ------------------------------------------------------------------------------
exp = comet_ml.Experiment(workspace=WORKSPACE, project_name=PROJECT)
assert exp.alive, "the handshake failed: the experiment is not alive"
key = exp.id
exp.set_name("live-run")

with exp.train():
    exp.log_metric("loss", 0.5, step=1, epoch=1)
    exp.log_metric("loss", 0.25, step=2, epoch=1)
with exp.test():
    exp.log_metric("loss", 0.75, step=2, epoch=2)
exp.log_metric("plain", -3, step=5)
exp.log_metric("nan-metric", float("nan"), step=1)

exp.log_parameter("lr", 0.01)
exp.log_parameters({"batch": 32, "opt": "adam", "layers": [1, 2, 3], "cfg": {"a": 1}})
exp.log_other("owner", "ada")
exp.log_other("answer", 42)
# comet_ml writes these as bare NaN / Infinity tokens in its JSON.
exp.log_other("nan-other", float("nan"))
exp.log_parameter("inf-param", float("inf"))
exp.add_tag("alpha")
exp.add_tags(["beta", "gamma"])
exp.log_system_info("rack", "r7")

asset_bytes = b"sample asset bytes\n" * 3
asset = exp.log_asset(write_file(os.path.join(TMP, "sample.txt"), asset_bytes), file_name="data/sample.txt")
png = tiny_png()
image = exp.log_image(write_file(os.path.join(TMP, "tiny.png"), png), name="tiny.png", step=3)
exp.log_html("<b>one</b>")
exp.log_html("<i>two</i>")
exp.set_model_graph("Sequential(dense: 3 -> 1)")
print("hello from stdout")
print("hello from stderr", file=sys.stderr)

# 50 metrics per step, then flush: the clock stops when the server has stored every point.
started = time.monotonic()
for step in range(STEPS):
    exp.log_metrics({"w%02d" % i: wide_value(i, step) for i in range(WIDE)}, step=step, epoch=step // 100)
exp.flush()
elapsed = time.monotonic() - started
print("THROUGHPUT %d points/s (%d points in %.2f s)" % (STEPS * WIDE / elapsed, STEPS * WIDE, elapsed))

exp.end()

# --- read it all back through the REST API ------------------------------------------------------
api_exp = APIExperiment(api=api, previous_experiment=key)
assert api_exp.name == "live-run", "name: %r" % api_exp.name
metadata = api_exp.get_metadata()
assert metadata["projectName"] == PROJECT and metadata["workspaceName"] == WORKSPACE, metadata
assert metadata["running"] is False, "ended run still running: %r" % metadata
assert metadata["endTimeMillis"] >= metadata["startTimeMillis"], metadata
assert metadata["fileName"] == os.path.basename(__file__), metadata

loss = api_exp.get_metrics("loss")
assert [(float(m["metricValue"]), m["step"], m["epoch"], m["runContext"]) for m in loss] == [
    (0.5, 1, 1, "train"),
    (0.25, 2, 1, "train"),
    (0.75, 2, 2, "test"),
], loss
assert [(float(m["metricValue"]), m["step"]) for m in api_exp.get_metrics("plain")] == [(-3.0, 5)], "plain"
nan_points = api_exp.get_metrics("nan-metric")
assert len(nan_points) == 1 and nan_points[0]["metricValue"] == "NaN", nan_points
for i in range(WIDE):
    name = "w%02d" % i
    points = api_exp.get_metrics(name)
    assert [m["step"] for m in points] == list(range(STEPS)), "%s steps" % name
    assert [float(m["metricValue"]) for m in points] == [wide_value(i, s) for s in range(STEPS)], "%s values" % name
    assert [m["epoch"] for m in points] == [s // 100 for s in range(STEPS)], "%s epochs" % name

params = summary(api_exp.get_parameters_summary())
assert params["lr"] == "0.01" and params["batch"] == "32" and params["opt"] == "adam", params
# Lists arrive as JSON arrays and are kept as their JSON text; dicts arrive already as text.
assert params["layers"] == "[1,2,3]", params
if "nested_support" in inspect.signature(comet_ml.Experiment.log_parameters).parameters:
    # Newer clients flatten nested dicts into "|"-joined names (log_parameters' nested_support).
    assert params["cfg|a"] == "1" and "cfg" not in params, params
else:
    assert json.loads(params["cfg"]) == {"a": 1}, params
assert params["curr_step"] == str(STEPS - 1), "auto-logged curr_step: %r" % params
assert params["inf-param"] == "Infinity", params
others = summary(api_exp.get_others_summary())
assert others["owner"] == "ada" and others["answer"] == "42" and others["Name"] == "live-run", others
assert others["nan-other"] == "NaN", others
assert api_exp.get_tags() == ["alpha", "beta", "gamma"], api_exp.get_tags()

assets = {a["fileName"]: a for a in api_exp.get_asset_list()}
assert assets["data/sample.txt"]["assetId"] == asset["assetId"], (assets, asset)
assert api_exp.get_asset(asset["assetId"]) == asset_bytes, "asset bytes"
assert fetch(asset["api"]) == asset_bytes, "the asset link handed back by log_asset"
source = [a for a in assets.values() if a["type"] == "source_code"]
# comet_ml names the source asset by the script's full path.
assert [a["fileName"] for a in source] == [os.path.abspath(__file__)], "log_code: %r" % source
with open(__file__, "rb") as handle:
    assert api_exp.get_asset(source[0]["assetId"]) == handle.read(), "source code bytes"
images = api_exp.get_asset_list(asset_type="image")
assert [(a["fileName"], a["assetId"], a["step"]) for a in images] == [("tiny.png", image["imageId"], 3)], images
assert api_exp.get_asset(image["imageId"]) == png, "image bytes"
assert fetch(image["api"]) == png, "the image link (imageId=) handed back by log_image"

assert api_exp.get_html() == "<b>one</b><i>two</i>", api_exp.get_html()
assert api_exp.get_model_graph() == "Sequential(dense: 3 -> 1)", api_exp.get_model_graph()
output = api_exp.get_output()
assert "hello from stdout\n" in output and "hello from stderr\n" in output, output

details = api_exp.get_system_details()
assert details["hostname"] == socket.gethostname(), details["hostname"]
assert details["pid"] == os.getpid(), details["pid"]
assert details["pythonVersion"] == "%d.%d.%d" % sys.version_info[:3], details["pythonVersion"]
assert any(p.lower().replace("_", "-") == "comet-ml==" + comet_ml.__version__
           for p in details["installedPackages"]), "installed packages"
assert {"key": "rack", "value": "r7"} in details["logAdditionalSystemInfoList"], details["logAdditionalSystemInfoList"]

git_metadata = api_exp.get_git_metadata()
# comet_ml sends the full ref as the branch and the committer's name as the user.
assert git_metadata["parent"] == HEAD and git_metadata["branch"] == "refs/heads/" + BRANCH, git_metadata
assert git_metadata["user"] == "Ada", git_metadata
patch = api_exp.get_git_patch()
assert patch is not None, "no git patch stored"
with zipfile.ZipFile(io.BytesIO(patch)) as archive:
    diff = archive.read("git_diff.patch").decode("utf-8")
assert "-epochs = 1" in diff and "+epochs = 2" in diff, diff

# --- the same run through the Foundry Models API (Bearer key, preview=true) ----------------------
root = os.environ["COMET_URL_OVERRIDE"].split("/clientlib")[0]
foundry_request = urllib.request.Request(
    "%s/api/v2/models/%s/experiments/%s?preview=true" % (root, metadata["modelRid"], metadata["experimentRid"]),
    headers={"Authorization": "Bearer %s" % API_KEY},
)
with urllib.request.urlopen(foundry_request, timeout=30) as response:
    foundry = json.loads(response.read())
assert foundry["rid"] == metadata["experimentRid"] and foundry["name"] == "live-run", foundry
assert foundry["status"] == "SUCCEEDED" and foundry["branch"] == BRANCH, (foundry["status"], foundry["branch"])
assert sorted(foundry["tags"]) == ["alpha", "beta", "gamma"], foundry["tags"]
foundry_params = {p["name"]: p["value"] for p in foundry["parameters"]}
assert foundry_params["lr"] == {"type": "double", "value": 0.01}, foundry_params["lr"]
assert foundry_params["batch"] == {"type": "integer", "value": 32}, foundry_params["batch"]
assert foundry_params["opt"] == {"type": "string", "value": "adam"}, foundry_params["opt"]
foundry_series = {s["name"]: s for s in foundry["series"]}
assert foundry_series["loss"]["length"] == 3, foundry_series["loss"]
assert foundry_series["loss"]["value"] == {"type": "double", "min": 0.25, "max": 0.75, "last": 0.75}, foundry_series["loss"]
assert foundry_series["w07"]["length"] == STEPS, foundry_series["w07"]
assert foundry_series["w07"]["value"]["last"] == wide_value(7, STEPS - 1), foundry_series["w07"]
points_request = urllib.request.Request(
    "%s/api/v2/models/%s/experiments/%s/series/w07/json?preview=true&pageSize=1000"
    % (root, metadata["modelRid"], metadata["experimentRid"]),
    headers={"Authorization": "Bearer %s" % API_KEY},
)
with urllib.request.urlopen(points_request, timeout=30) as response:
    foundry_points = json.loads(response.read())["series"]
assert [(p["step"], p["value"]) for p in foundry_points] == [(s, wide_value(7, s)) for s in range(STEPS)], "w07 via Foundry"

# --- ExistingExperiment appends to the same run ------------------------------------------------
existing = comet_ml.ExistingExperiment(previous_experiment=key)
assert existing.alive and existing.id == key, "ExistingExperiment did not attach"
for step in range(3):
    existing.log_metric("loss", 1.0 + step, step=10 + step)
existing.log_parameter("resumed", True)
existing.end()
loss = api_exp.get_metrics("loss")
assert [(float(m["metricValue"]), m["step"]) for m in loss[3:]] == [(1.0, 10), (2.0, 11), (3.0, 12)], loss
assert len(loss) == 6, "the first run's points are kept: %r" % loss
assert summary(api_exp.get_parameters_summary())["resumed"] == "true", "parameter from the resumed run"
assert api_exp.get_metadata()["running"] is False, "resumed run ended"

# --- OfflineExperiment, then `comet upload` ----------------------------------------------------
offline_dir = os.path.join(TMP, "offline")
offline = comet_ml.OfflineExperiment(offline_directory=offline_dir, workspace=WORKSPACE, project_name=PROJECT)
offline_key = offline.id
offline.set_name("offline-run")
for step in range(20):
    offline.log_metric("acc", step / 20.0, step=step)
offline.log_parameter("optimizer", "sgd")
offline.log_other("site", "lab")
offline.add_tag("offline")
offline_asset = offline.log_asset(write_file(os.path.join(TMP, "offline.bin"), b"\x00\x01offline"), file_name="o.bin")
print("offline stdout line")
offline.end()
archive = os.path.join(offline_dir, "%s.zip" % offline_key)
with zipfile.ZipFile(archive) as handle:
    archived = json.loads(handle.read("experiment.json"))
    archived_messages = handle.read("messages.json").decode("utf-8")

upload = subprocess.run(
    [sys.executable, "-m", "comet_ml.scripts.comet_upload", archive],
    capture_output=True,
    text=True,
    timeout=300,
)
print(upload.stdout + upload.stderr)
assert upload.returncode == 0, "comet upload exited %d" % upload.returncode

uploaded = APIExperiment(api=api, previous_experiment=offline_key)
assert uploaded.name == "offline-run", uploaded.name
# Points come back in arrival order; newer clients upload an archive's metrics in parallel batches.
offline_metrics = sorted((m["step"], float(m["metricValue"])) for m in uploaded.get_metrics("acc"))
assert offline_metrics == [(step, step / 20.0) for step in range(20)], offline_metrics
assert summary(uploaded.get_parameters_summary())["optimizer"] == "sgd", "offline parameter"
offline_others = summary(uploaded.get_others_summary())
assert offline_others["site"] == "lab" and offline_others["Name"] == "offline-run", offline_others
assert uploaded.get_tags() == ["offline"], uploaded.get_tags()
offline_assets = {a["fileName"]: a for a in uploaded.get_asset_list()}
assert uploaded.get_asset(offline_assets["o.bin"]["assetId"]) == b"\x00\x01offline", "offline asset"
offline_output = uploaded.get_output()
# What the archive holds is what Cairn must show: comet_ml's console capture now and then archives
# nothing before end() in offline mode (seen in CI: only parameter, metric, ws and file messages),
# or the line without its newline, whose write it captured too late.
def archived_chunks(messages):
    """Console chunks as archived: comet_ml 3.32's ws_msg `stdout`, newer clients' standard_output `output`."""
    for message in map(json.loads, messages.splitlines()):
        payload = message.get("payload")
        if isinstance(payload, dict):
            chunk = payload.get("stdout") if message.get("type") == "ws_msg" else payload.get("output")
            if message.get("type") in ("ws_msg", "standard_output") and isinstance(chunk, str):
                yield chunk


# Chunks are joined as Comet's output is, with a newline between two only where neither has one.
archived_output = ""
for chunk in archived_chunks(archived_messages):
    if archived_output and not archived_output.endswith("\n") and not chunk.startswith("\n"):
        archived_output += "\n"
    archived_output += chunk
assert offline_output == archived_output, (offline_output, archived_output)
if "offline stdout line" not in archived_output:
    print("note: comet_ml archived no console output for the offline run")
offline_metadata = uploaded.get_metadata()
assert offline_metadata["startTimeMillis"] == archived["start_time"], (offline_metadata, archived)
assert offline_metadata["endTimeMillis"] == archived["stop_time"], (offline_metadata, archived)
assert offline_metadata["running"] is False, offline_metadata

# Uploading the same archive again is refused (400/90999, "already uploaded") and changes nothing.
# Its output is not printed: comet_ml reports the refusal as a COMET ERROR line, as it should.
again = subprocess.run(
    [sys.executable, "-m", "comet_ml.scripts.comet_upload", archive], capture_output=True, text=True, timeout=300
)
assert "experiment was already uploaded" in again.stdout + again.stderr, again.stdout + again.stderr
assert len(uploaded.get_metrics("acc")) == 20, "a second upload must not duplicate points"

os.chdir("/")
shutil.rmtree(TMP, ignore_errors=True)
print("OK live_experiment_check")
