"""comet_ml 3.32.5 against Cairn: everything logged to one experiment, and read back.

Drives APIExperiment (and API where the read lives there) through every write and read that maps
to the experiment endpoints: metrics, parameters, others, tags, HTML, code, output, graph, times,
status, file path, git, system details and system metrics, assets, curves, images, tables, models
and the multi-metric chart. Every value is asserted to come back exactly. Contract: env
COMET_URL_OVERRIDE, COMET_API_KEY, CAIRN_WORKSPACE; own uniquely named project; prints
"OK experiments_check" at the end.
"""

import inspect
import io
import json
import os
import secrets
import tempfile
import time
import zipfile

from comet_ml import API, APIExperiment
from comet_ml.batch_utils import MessageBatchItem
from comet_ml.exceptions import NotFound
from comet_ml.messages import StandardOutputMessage

WORKSPACE = os.environ.get("CAIRN_WORKSPACE", "default")
PROJECT = "compat-experiments-%s" % secrets.token_hex(4)
TMP = tempfile.mkdtemp(prefix="cairn-compat-")

# The client-side cache would answer reads from memory; every read here must reach the server.
api = API(cache=False)
client = api._client


def write_file(name, data):
    path = os.path.join(TMP, name)
    with open(path, "wb") as handle:
        handle.write(data)
    return path


def assert_saved(result, what):
    assert isinstance(result, dict) and result.get("code") == 200, "%s -> %r" % (what, result)


exp = APIExperiment(api=api, workspace=WORKSPACE, project_name=PROJECT, experiment_name="first-name")
key = exp.id
assert exp.name == "first-name", "experiment name from create: %r" % (exp.name,)
assert APIExperiment(api=api, previous_experiment=key).id == key, "APIExperiment(previous_experiment=)"

# --- metrics ---------------------------------------------------------------------------------------
# APIExperiment.log_metric has no epoch or context: the client's own REST call carries them.
base_seconds = 1_700_000_000.25
client.log_experiment_metric(key, "loss", 0.75, step=1, epoch=1, context="train", timestamp=base_seconds)
client.log_experiment_metric(key, "loss", 0.5, step=2, epoch=1, context="train", timestamp=base_seconds + 1)
client.log_experiment_metric(key, "loss", 0.875, step=3, epoch=2, context="test", timestamp=base_seconds + 2)
assert_saved(exp.log_metric("acc", 0.25, step=1), "log_metric")
results = exp.log_metrics({"acc": 0.5, "f1": 1}, step=2)
assert len(results) == 2 and all(r.get("code") == 200 for r in results), "log_metrics -> %r" % (results,)
# comet_ml 3.32 passes log_metric's timestamp positionally into the epoch field; the server keeps
# it so. Newer clients take an epoch of their own and send the timestamp (seconds) as milliseconds.
TIMESTAMP_IS_EPOCH = "epoch" not in inspect.signature(APIExperiment.log_metric).parameters
exp.log_metric("quirk", 7, step=9, timestamp=42)

loss = exp.get_metrics("loss")
assert [float(m["metricValue"]) for m in loss] == [0.75, 0.5, 0.875], loss
assert [m["step"] for m in loss] == [1, 2, 3], loss
assert [m["epoch"] for m in loss] == [1, 1, 2], loss
assert [m["runContext"] for m in loss] == ["train", "train", "test"], loss
assert [m["timestamp"] for m in loss] == [1_700_000_000_250, 1_700_000_001_250, 1_700_000_002_250], loss
assert all(m["metricName"] == "loss" for m in loss), loss
offsets = [m["offset"] for m in loss]
assert offsets == sorted(offsets) and len(set(offsets)) == 3, "offsets increase: %r" % (offsets,)
acc = exp.get_metrics("acc")
assert [(float(m["metricValue"]), m["step"], m["epoch"], m["runContext"]) for m in acc] == [
    (0.25, 1, None, None),
    (0.5, 2, None, None),
], acc
assert [(float(m["metricValue"]), m["step"]) for m in exp.get_metrics("f1")] == [(1.0, 2)], "f1"
quirk = exp.get_metrics("quirk")
if TIMESTAMP_IS_EPOCH:
    assert [(float(m["metricValue"]), m["step"], m["epoch"]) for m in quirk] == [(7.0, 9, 42)], quirk
    now_ms = int(time.time() * 1000)
    assert abs(quirk[0]["timestamp"] - now_ms) < 600_000, "no timestamp sent -> server time: %r" % (quirk,)
else:
    assert [(float(m["metricValue"]), m["step"], m["epoch"], m["timestamp"]) for m in quirk] == [
        (7.0, 9, None, 42_000)
    ], quirk
assert exp.get_metrics("never-logged") == [], "an unknown metric has no points"
# Names travel in query strings: separators and non-ASCII must survive the round trip.
odd_name = "train/loss & más?=1"
exp.log_metric(odd_name, 2.5, step=1)
assert [(m["metricName"], float(m["metricValue"])) for m in exp.get_metrics(odd_name)] == [(odd_name, 2.5)]

summary = {row["name"]: row for row in exp.get_metrics_summary()}
assert set(summary) == {"loss", "acc", "f1", "quirk", odd_name}, "metric summary names: %r" % (sorted(summary),)
loss_summary = exp.get_metrics_summary("loss")
assert loss_summary == summary["loss"], "get_metrics_summary(name) picks one row"
assert float(loss_summary["valueMin"]) == 0.5 and loss_summary["stepMin"] == 2, loss_summary
assert float(loss_summary["valueMax"]) == 0.875 and loss_summary["stepMax"] == 3, loss_summary
assert float(loss_summary["valueCurrent"]) == 0.875 and loss_summary["stepCurrent"] == 3, loss_summary
assert loss_summary["runContextMin"] == "train" and loss_summary["runContextMax"] == "test", loss_summary
assert loss_summary["timestampMin"] == 1_700_000_001_250, loss_summary
assert loss_summary["timestampCurrent"] == 1_700_000_002_250, loss_summary
assert exp.get_metrics_summary("never-logged") == [], "summary of an unknown metric"

# --- parameters and others ---------------------------------------------------------------------------
assert_saved(exp.log_parameter("lr", 0.01), "log_parameter")
exp.log_parameter("lr", 0.001, step=5)
results = exp.log_parameters({"batch_size": 32, "optimizer": "adam", "layers": [64, 32]})
assert len(results) == 3 and all(r.get("code") == 200 for r in results), results
exp.log_parameter("stamped", "x", timestamp=1_600_000_000)

params = {row["name"]: row for row in exp.get_parameters_summary()}
assert set(params) == {"lr", "batch_size", "optimizer", "layers", "stamped"}, sorted(params)
lr = exp.get_parameters_summary("lr")
assert lr["valueCurrent"] == "0.001" and lr["stepCurrent"] == 5, lr
assert lr["valueMin"] == "0.001" and lr["valueMax"] == "0.01", lr
assert params["batch_size"]["valueCurrent"] == "32", params["batch_size"]
assert params["optimizer"]["valueCurrent"] == "adam", params["optimizer"]
# Lists are kept as their JSON text.
assert json.loads(params["layers"]["valueCurrent"]) == [64, 32], params["layers"]
assert params["stamped"]["timestampCurrent"] == 1_600_000_000_000, params["stamped"]
assert exp.get_parameters_summary("never-logged") == [], "summary of an unknown parameter"

assert_saved(exp.log_other("team", "vision"), "log_other")
exp.log_other("trainable_params", 712723)
exp.set_name("renamed-by-other")
assert exp.get_others_summary("team") == ["vision"], exp.get_others_summary("team")
assert exp.get_others_summary("trainable_params") == ["712723"], "numeric other as text"
assert exp.get_others_summary("never-logged") == [], "unknown other"
others = {row["name"]: row["valueCurrent"] for row in exp.get_others_summary()}
assert others["Name"] == "renamed-by-other", others
assert exp.get_name() == "renamed-by-other", "get_name() reads the Name other"
# Logging the other "Name" renames the experiment itself.
assert api.get_experiment_by_key(key).name == "renamed-by-other", "metadata name after set_name"
assert exp.get_metadata()["experimentName"] == "renamed-by-other", exp.get_metadata()

# --- tags --------------------------------------------------------------------------------------------
assert exp.get_tags() == [], "a new experiment has no tags"
exp.add_tag("baseline")
exp.add_tags(["gpu", "baseline", "v2"])
assert exp.get_tags() == ["baseline", "gpu", "v2"], "tags are a set, first-added order: %r" % exp.get_tags()

# --- html, code, graph, output -------------------------------------------------------------------------
assert exp.get_html() in ("", None), "html of a new experiment"
assert_saved(exp.log_html("<b>one</b>"), "log_html")
exp.log_html("<i>two</i>")
assert exp.get_html() == "<b>one</b><i>two</i>", "log_html appends: %r" % exp.get_html()
exp.log_html("<p>fresh</p>", clear=True)
assert exp.get_html() == "<p>fresh</p>", "log_html(clear=True) replaces: %r" % exp.get_html()

source = "import comet_ml\nprint('héllo')\n"
assert_saved(exp.set_code(source), "set_code")
assert exp.get_code() == source, "code round trip"
exp.set_code(filename=write_file("train.py", b"x = 1\n"))
assert exp.get_code() == "x = 1\n", "set_code(filename=) reads the file"

graph = json.dumps({"class_name": "Sequential", "layers": [{"units": 64}]})
assert_saved(exp.set_model_graph(graph), "set_model_graph")
assert exp.get_model_graph() == graph, "graph round trip"

assert_saved(exp.log_output("line one\nline two\n"), "log_output")
exp.log_output("an error\n", stderr=True)
exp.log_output("in context\n", context="eval")
assert exp.get_output() == "line one\nline two\nan error\nin context\n", "output: %r" % exp.get_output()

# --- times, status, file path ----------------------------------------------------------------------------
start = 1_690_000_000_000
assert_saved(exp.set_start_time(start), "set_start_time")
assert exp.start_server_timestamp == start, "set_start_time refreshes the local copy"
metadata = exp.get_metadata()
assert metadata["startTimeMillis"] == start, metadata
exp.set_end_time(start + 90_000)
assert exp.end_server_timestamp == start + 90_000, "set_end_time refreshes the local copy"
metadata = exp.get_metadata()
assert metadata["endTimeMillis"] == start + 90_000 and metadata["durationMillis"] == 90_000, metadata

# Importing a past run: set_end_time first, on a fresh experiment whose start is its creation time.
# comet_ml documents that an unset start is then placed one second before the end.
imported = APIExperiment(api=api, workspace=WORKSPACE, project_name=PROJECT, experiment_name="imported")
imported.set_end_time(1_500_000_060_000)
metadata = imported.get_metadata()
assert (metadata["startTimeMillis"], metadata["endTimeMillis"]) == (1_500_000_059_000, 1_500_000_060_000), metadata
imported.set_start_time(1_500_000_000_000)
metadata = imported.get_metadata()
assert metadata["startTimeMillis"] == 1_500_000_000_000 and metadata["durationMillis"] == 60_000, metadata

status = exp.update_status()
assert isinstance(status, dict), "update_status -> %r" % (status,)
for field in ("isAliveBeatDurationMillis", "gpuMonitorIntervalMillis", "cpuMonitorIntervalMillis"):
    assert isinstance(status.get(field), int) and status[field] > 0, "update_status lacks %s: %r" % (field, status)
assert exp.get_metadata()["running"] is True, "running after a heartbeat"

assert_saved(exp.set_filename("/home/me/project/train.py"), "set_filename")
metadata = exp.get_metadata()
assert metadata["filePath"] == "/home/me/project/train.py" and metadata["fileName"] == "train.py", metadata
assert exp.file_path == "/home/me/project/train.py", "set_filename updates the local copy"

# --- git ------------------------------------------------------------------------------------------------
assert exp.get_git_patch() is None, "no patch yet: the client reads the {\"msg\" sentinel as None"
assert exp.get_git_metadata() == {"user": None, "root": None, "branch": None, "parent": None, "origin": None}
assert_saved(
    exp.set_git_metadata("alice", "/src/repo", "refs/heads/main", "96ff529b", "git@example.com:x/y.git"),
    "set_git_metadata",
)
assert exp.get_git_metadata() == {
    "user": "alice",
    "root": "/src/repo",
    "branch": "refs/heads/main",
    "parent": "96ff529b",
    "origin": "git@example.com:x/y.git",
}, exp.get_git_metadata()
DIFF = "diff --git a/x b/x\n+added\n"
if "compress_git_patch" in inspect.getsource(APIExperiment.set_git_patch):
    # Newer clients zip the patch text themselves (as git_diff.patch): the server keeps their zip.
    assert_saved(exp.set_git_patch(DIFF), "set_git_patch")
    patch = exp.get_git_patch()
else:
    # comet_ml 3.32 sends the bytes it is given, a zip the caller made: they come back byte for byte.
    patch_zip = io.BytesIO()
    with zipfile.ZipFile(patch_zip, "w") as archive:
        archive.writestr("git_diff.patch", DIFF)
    assert_saved(exp.set_git_patch(patch_zip.getvalue()), "set_git_patch")
    patch = exp.get_git_patch()
    assert patch == patch_zip.getvalue(), "the patch comes back byte for byte"
assert zipfile.ZipFile(io.BytesIO(patch)).read("git_diff.patch") == DIFF.encode()

# --- system details (one field per call, merged) ---------------------------------------------------------
details = exp.get_system_details()
for field in (
    "experimentKey", "user", "pythonVersion", "pythonVersionVerbose", "pid", "osType", "os", "osRelease",
    "machine", "processor", "ip", "hostname", "gpuStaticInfoList", "logAdditionalSystemInfoList",
    "systemMetricNames", "maxTotalMemory", "networkInterfaceIps", "command", "executable", "osPackages",
    "installedPackages", "totalRam",
):
    assert field in details, "system details lack %s: %r" % (field, details)

gpus = [{"gpuIndex": 0, "name": "GeForce GTX 950", "uuid": "GPU-cb6c", "totalMemory": 2090074112, "powerLimit": 110000}]
writes = [
    (exp.set_user, "alice", exp.get_user),
    (exp.set_python_version, "3.11.7", exp.get_python_version),
    (exp.set_python_version_verbose, "3.11.7 (main) [GCC 12]", exp.get_python_version_verbose),
    (exp.set_pid, 4242, exp.get_pid),
    (exp.set_os_type, "Linux", exp.get_os_type),
    (exp.set_os, "Linux-6.1-x86_64", exp.get_os),
    (exp.set_os_release, "6.1.0", exp.get_os_release),
    (exp.set_ip, "10.0.0.7", exp.get_ip),
    (exp.set_hostname, "trainer-1", exp.get_hostname),
    (exp.set_machine, "x86_64", exp.get_machine),
    (exp.set_processor, "Intel64 Family 6", exp.get_processor),
    (exp.set_executable, "/usr/bin/python3", exp.get_executable),
    (exp.set_command, ["train.py", "--epochs", "3"], exp.get_command),
    (exp.set_network_interface_ips, ["127.0.0.1", "10.0.0.7"], exp.get_network_interface_ips),
    (exp.set_os_packages, ["libc6=2.36", "zlib1g=1.2"], exp.get_os_packages),
    (exp.set_installed_packages, ["comet-ml==3.32.5", "numpy==1.26.0"], exp.get_installed_packages),
    (exp.set_gpu_static_info, gpus, exp.get_gpu_static_info),
]
for setter, value, getter in writes:
    assert_saved(setter(value), setter.__name__)
for setter, value, getter in writes:
    # Read after all writes: each one-field write must have left the others alone.
    assert getter() == value, "%s -> %r, expected %r" % (getter.__name__, getter(), value)
assert exp.get_os_packages() == ["libc6=2.36", "zlib1g=1.2"], "os packages"
exp.log_additional_system_info("cuda", "12.2")
exp.log_additional_system_info("workers", 8)
assert exp.get_additional_system_info() == [
    {"key": "cuda", "value": "12.2"},
    {"key": "workers", "value": "8"},
], exp.get_additional_system_info()
details = exp.get_system_details()
assert details["experimentKey"] == key and details["hostname"] == "trainer-1", details

# --- system metrics ---------------------------------------------------------------------------------------
assert exp.get_system_metric_names() == [], "no system metrics yet"
assert_saved(exp.log_cpu_metrics([10, 30], step=1), "log_cpu_metrics")
assert_saved(exp.log_ram_metrics(16_000, 4_000, step=1), "log_ram_metrics")
assert_saved(exp.log_load_metrics(1.5, step=1), "log_load_metrics")
assert_saved(
    exp.log_gpu_metrics([{"gpuId": 0, "freeMemory": 1024, "usedMemory": 856, "gpuUtilization": 25, "totalMemory": 2056}]),
    "log_gpu_metrics",
)
expected_system = {
    "sys.cpu.percent.01", "sys.cpu.percent.02", "sys.cpu.percent.avg", "sys.ram.total", "sys.ram.used",
    "sys.load.avg", "sys.gpu.0.free_memory", "sys.gpu.0.used_memory", "sys.gpu.0.gpu_utilization",
    "sys.gpu.0.total_memory",
}
assert set(exp.get_system_metric_names()) == expected_system, sorted(exp.get_system_metric_names())
assert [float(m["metricValue"]) for m in exp.get_metrics("sys.cpu.percent.02")] == [30.0], "cpu 02"
assert [float(m["metricValue"]) for m in exp.get_metrics("sys.cpu.percent.avg")] == [20.0], "cpu avg"
assert [float(m["metricValue"]) for m in exp.get_metrics("sys.ram.used")] == [4000.0], "ram used"
assert [float(m["metricValue"]) for m in exp.get_metrics("sys.load.avg")] == [1.5], "load avg"
assert [float(m["metricValue"]) for m in exp.get_metrics("sys.gpu.0.gpu_utilization")] == [25.0], "gpu"
# System metrics stay out of the user metric summary.
assert not any(row["name"].startswith("sys.") for row in exp.get_metrics_summary()), "sys in summary"

# --- assets ----------------------------------------------------------------------------------------------
assert exp.get_asset_list() == [], "a new experiment has no assets"
data_path = write_file("data.txt", b"hello assets\n")
uploaded = exp.log_asset(data_path, step=3, context="train", metadata={"source": "compat", "n": 1})
assert uploaded.get("code") == 200 and uploaded.get("assetId"), "log_asset -> %r" % (uploaded,)
asset_id = uploaded["assetId"]
assert uploaded.get("api") and uploaded.get("web"), "upload answer links: %r" % (uploaded,)
[asset] = exp.get_asset_list()
# log_asset names the asset by the path it was given.
assert asset["fileName"] == data_path and asset["fileSize"] == 13, asset
assert asset["assetId"] == asset_id and asset["step"] == 3 and asset["runContext"] == "train", asset
assert asset["type"] == "asset" and asset["image"] is False and asset["remote"] is False, asset
assert json.loads(asset["metadata"]) == {"source": "compat", "n": 1}, "metadata is a JSON string: %r" % asset
assert exp.get_asset(asset_id) == b"hello assets\n", "get_asset binary"
response = exp.get_asset(asset_id, return_type="response", stream=True)
assert b"".join(response.iter_content(chunk_size=4)) == b"hello assets\n", "get_asset streamed"

downloaded = os.path.join(TMP, "downloaded.txt")
api.download_experiment_asset(key, asset_id, downloaded)
with open(downloaded, "rb") as handle:
    assert handle.read() == b"hello assets\n", "API.download_experiment_asset"

# overwrite=True replaces the asset of the same name.
write_file("data.txt", b"replaced\n")
replaced = exp.log_asset(data_path, overwrite=True)
listed = exp.get_asset_list()
assert [a["fileName"] for a in listed] == [data_path], "overwrite keeps one asset: %r" % (listed,)
assert exp.get_asset(replaced["assetId"]) == b"replaced\n", "overwritten bytes"

image_bytes = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
image_path = write_file("pixel.png", image_bytes)
image = exp.log_image(image_path, image_name="pixel.png", step=4)
assert image.get("assetId"), "log_image -> %r" % (image,)
[image_row] = exp.get_asset_list("image")
assert image_row["assetId"] == image["assetId"] and image_row["fileName"] == "pixel.png", image_row
assert image_row["image"] is True and image_row["type"] == "image" and image_row["step"] == 4, image_row
assert exp.get_asset(image["assetId"]) == image_bytes, "image bytes"

table = exp.log_table("scores.csv", tabular_data=[[1, 2], [3, 4]], headers=["a", "b"])
table_row = [a for a in exp.get_asset_list() if a["assetId"] == table["assetId"]]
assert table_row and table_row[0]["fileName"] == "scores.csv", "log_table row: %r" % (table_row,)
# The client writes the CSV (3.32 quotes the header cells, newer clients end lines with CRLF); the
# server keeps its bytes.
assert exp.get_asset(table["assetId"]) in (b'"a","b"\n1,2\n3,4\n', b"a,b\r\n1,2\r\n3,4\r\n"), exp.get_asset(
    table["assetId"]
)

curve = exp.log_curve("roc", x=[0, 0.5, 1], y=[0, 0.8, 1], step=7)
assert curve.get("assetId"), "log_curve -> %r" % (curve,)
curves = exp.get_curves()
assert curves == [{"name": "roc", "x": [0, 0.5, 1], "y": [0, 0.8, 1], "step": 7, "assetId": curve["assetId"]}], curves
assert exp.get_curve(curve["assetId"])["y"] == [0, 0.8, 1], "get_curve"
assert exp.get_asset(curve["assetId"], return_type="json")["name"] == "roc", "get_asset json"

nested = client.log_experiment_asset(key, file_data=io.BytesIO(b"nested"), file_name="dir/sub dir/ü.txt").json()
nested_row = [a for a in exp.get_asset_list() if a["assetId"] == nested["assetId"]]
assert nested_row and nested_row[0]["fileName"] == "dir/sub dir/ü.txt", "nested asset name: %r" % (nested_row,)
assert exp.get_asset(nested["assetId"]) == b"nested", "nested asset bytes"
exp.delete_asset(nested["assetId"])

assert {a["type"] for a in exp.get_asset_list("all")} == {"asset", "image", "curve"}, "types of all assets"
assert [a["assetId"] for a in exp.get_asset_list("curve")] == [curve["assetId"]], "filter by curve"
assert len(exp.get_asset_list(None)) == 4, "no type filter lists everything"

exp.delete_asset(table["assetId"])
assert table["assetId"] not in [a["assetId"] for a in exp.get_asset_list()], "delete_asset"
try:
    exp.get_asset(table["assetId"])
    raise AssertionError("a deleted asset can still be downloaded")
except NotFound:
    pass

# --- tensorflow files and experiment models ---------------------------------------------------------------
for name, content in (("logs/events.out", b"event-bytes"), ("logs/train/more.out", b"more")):
    client.log_experiment_asset(key, file_data=io.BytesIO(content), file_name=name, ftype="tensorflow-file")
tf_dir = os.path.join(TMP, "tf")
exp.download_tensorflow_folder(tf_dir)
with open(os.path.join(tf_dir, "logs", "train", "more.out"), "rb") as handle:
    assert handle.read() == b"more", "download_tensorflow_folder"

assert exp.get_model_names() == [], "no models yet"
# Experiment.log_model uploads "model-element" assets grouped by model name; the REST upload with
# groupingName is the same request the SDK's own transport makes.
for name, content in (("weights.bin", b"\x00\x01\x02weights"), ("config/model.json", b'{"layers": 2}')):
    response = client.post_from_endpoint(
        "write/experiment/upload-asset",
        {},
        params={"experimentKey": key, "fileName": name, "type": "model-element", "groupingName": "my-model"},
        files={"file": ("file", content)},
    )
    assert response.json().get("assetId"), "model upload -> %s" % (response.text,)
assert exp.get_model_names() == ["my-model"], exp.get_model_names()
model_assets = exp.get_model_asset_list("my-model")
assert sorted(a["fileName"] for a in model_assets) == ["config/model.json", "weights.bin"], model_assets
assert all(a["type"] == "model-element" for a in model_assets), model_assets
model_dir = os.path.join(TMP, "model")
exp.download_model("my-model", output_path=model_dir)
with open(os.path.join(model_dir, "weights.bin"), "rb") as handle:
    assert handle.read() == b"\x00\x01\x02weights", "downloaded model weights"
with open(os.path.join(model_dir, "config", "model.json"), "rb") as handle:
    assert handle.read() == b'{"layers": 2}', "downloaded model config"
exp.download_model("my-model", output_path=model_dir, expand=False)
with zipfile.ZipFile(os.path.join(model_dir, "my-model.zip")) as archive:
    assert sorted(archive.namelist()) == ["config/model.json", "weights.bin"], archive.namelist()

# --- multi-metric chart ----------------------------------------------------------------------------------
second = APIExperiment(api=api, workspace=WORKSPACE, project_name=PROJECT, experiment_name="second")
# 600 points: more than the ~500 a sampled chart keeps, fewer than the 15,000 of a full one.
for step in range(600):
    client.log_experiment_metric(second.id, "score", step * 0.5, step=step)
second.log_parameter("lr", 0.1)

# --- what the SDK's own transport sends: gzipped output batches, full system details, cloud details,
# dependencies, crash status ---------------------------------------------------------------------------------
def batch_item(message, offset):
    try:
        return MessageBatchItem(message, offset=offset)
    except TypeError:  # newer clients number the lines themselves when they send the batch
        return MessageBatchItem(message)


client.send_stdout_batch(
    [
        batch_item(StandardOutputMessage("batched out\n"), 100),
        batch_item(StandardOutputMessage("batched err\n", stderr=True), 101),
    ],
    second.id,
    compress=True,
)
assert second.get_output() == "batched out\nbatched err\n", "gzipped output batch: %r" % second.get_output()

client.set_experiment_system_details(
    _os="Linux-6.1", command=["run.py"], env={"HOME": "/home/me"}, experiment_key=second.id,
    hostname="host-2", ip="10.0.0.8", machine="aarch64", os_release="6.1", os_type="Linux", pid=7,
    processor="arm", python_exe="/usr/bin/python3", python_version_verbose="3.11.7 (main)",
    python_version="3.11.7", user="bob",
)
second_details = second.get_system_details()
assert (second_details["os"], second_details["hostname"], second_details["machine"], second_details["pid"]) == (
    "Linux-6.1", "host-2", "aarch64", 7,
), second_details
assert second_details["command"] == ["run.py"] and second_details["user"] == "bob", second_details

client.set_experiment_cloud_details(second.id, "AWS", {"region": "eu-west-1", "instance": "g5.xlarge"})
cloud = client.get_from_endpoint("experiment/cloud-details", {"experimentKey": second.id})
assert cloud == {"experimentKey": second.id, "provider": "AWS", "metadata": {"region": "eu-west-1", "instance": "g5.xlarge"}}, cloud
response = client.log_experiment_dependency(second.id, "numpy", "1.26.0")
assert response.json().get("code") == 200, "log_experiment_dependency -> %s" % (response.text,)

crashed = client.update_experiment_error_status(second.id, False, "Traceback: boom", has_crashed=True)
assert crashed.json().get("code") == 200, crashed.text
crash_metadata = second.get_metadata()
assert crash_metadata["hasCrashed"] is True and crash_metadata["error"] == "Traceback: boom", crash_metadata

charts = api.get_metrics_for_chart([second.id], ["score"], ["lr"])
chart = charts[second.id]
assert chart["experimentKey"] == second.id and chart["params"] == {"lr": "0.1"}, chart
[score] = chart["metrics"]
assert score["metricName"] == "score", score
assert 2 <= len(score["values"]) <= 500, "sampled chart holds %d points" % len(score["values"])
assert len(score["steps"]) == len(score["values"]) == len(score["timestamps"]) == len(score["durations"])
assert score["steps"][0] == 0 and score["steps"][-1] == 599, "sampling keeps the first and last points"
assert score["steps"] == sorted(score["steps"]), "sampled steps ascend"
assert all(v == s * 0.5 for v, s in zip(score["values"], score["steps"])), "sampled values match steps"
assert score["durations"][0] == 0, "durations start at 0"

full = api.get_metrics_for_chart([second.id], ["score"], full=True)[second.id]
[full_score] = full["metrics"]
assert full_score["steps"] == list(range(600)), "a full chart holds every point"
assert full_score["values"] == [s * 0.5 for s in range(600)], "full chart values"
assert full["params"] in (None, {}), "no params asked: %r" % (full["params"],)

independent = api.get_metrics_for_chart([key], ["loss", "acc"], independent=True, full=True)[key]
assert independent["steps"] == [1, 2, 3], "independent: union of steps %r" % (independent["steps"],)
by_name = {m["metricName"]: m for m in independent["metrics"]}
assert by_name["loss"]["values"] == [0.75, 0.5, 0.875] and by_name["loss"]["steps"] == [1, 2, 3], by_name
assert by_name["acc"]["values"] == [0.25, 0.5] and by_name["acc"]["steps"] == [1, 2], by_name
correlated = api.get_metrics_for_chart([key], ["loss", "acc"], independent=False, full=True)[key]
assert correlated["steps"] == [1, 2], "correlated: steps where every metric has a value %r" % (correlated,)

both = api.get_metrics_for_chart([key, second.id], ["loss", "score"], full=True)
assert set(both) == {key, second.id}, "one entry per experiment with values: %r" % (sorted(both),)
assert api.get_metrics_for_chart([key], ["never-logged"]) == {}, "no values at all -> {}"

# --- everything at once ---------------------------------------------------------------------------------
# get_metrics() without a name lists the project's metric names through project/column-names.
every = exp.get_metrics()
names = {m["metricName"] for m in every}
assert {"loss", "acc", "f1", "quirk", odd_name} <= names, "get_metrics() names: %r" % (sorted(names),)
assert [float(m["metricValue"]) for m in every if m["metricName"] == "loss"] == [0.75, 0.5, 0.875]
snapshot = exp.to_json(full=True)
assert snapshot["tags"] == ["baseline", "gpu", "v2"] and snapshot["code"] == "x = 1\n", snapshot

final = exp.get_metadata()
assert final["experimentKey"] == key and final["projectName"] == PROJECT and final["workspaceName"] == WORKSPACE
assert final["experimentName"] == "renamed-by-other" and final["archived"] is False, final
assert final["startTimeMillis"] == start and final["endTimeMillis"] == start + 90_000, final

api.delete_project(WORKSPACE, PROJECT, delete_experiments=True)
assert api.get_experiment_by_key(key) is None, "cleanup"

print("OK experiments_check")
