"""Artifacts through MLflow's proxied artifact service: log_artifact(s), log_text, log_dict,
log_image, list_artifacts and download_artifacts byte for byte, and the same files through
Comet's asset API.
"""

import json
import os
import tempfile

import mlflow
import numpy as np
from mlflow import MlflowClient
from PIL import Image

from _compat import REFERENCE, SUFFIX, check, comet, eq, ok

client = MlflowClient()
mlflow.set_experiment(f"compat-artifacts-{SUFFIX}")
BINARY = bytes(range(256)) * 64 + b"\x00tail"
PIXELS = (np.arange(12 * 10 * 3, dtype=np.uint16) % 256).astype(np.uint8).reshape(12, 10, 3)

with tempfile.TemporaryDirectory() as source:
    data = os.path.join(source, "data.bin")
    with open(data, "wb") as f:
        f.write(BINARY)
    bundle = os.path.join(source, "bundle")
    os.makedirs(os.path.join(bundle, "sub"))
    FILES = {"a.txt": b"first\n", "b.csv": b"x,y\n1,2\n", "sub/c.json": b'{"deep": true}'}
    for name, content in FILES.items():
        with open(os.path.join(bundle, name), "wb") as f:
            f.write(content)
    with mlflow.start_run() as run:
        RUN = run.info.run_id
        mlflow.log_artifact(data)
        mlflow.log_artifact(data, artifact_path="nested/dir")
        mlflow.log_artifacts(bundle, artifact_path="bundle")
        mlflow.log_text("hello ✓\nsecond line", "notes/readme.txt")
        mlflow.log_dict({"lr": 0.01, "layers": [64, 32], "name": "net"}, "config/params.json")
        mlflow.log_dict({"depth": 3}, "config/params.yaml")
        mlflow.log_image(PIXELS, "images/grid.png")
        mlflow.log_image(Image.fromarray(PIXELS[:, :, 0], mode="L"), "images/gray.png")

# Listing: one directory level, run-relative paths, sizes for files only.
root = {f.path: (f.is_dir, f.file_size) for f in client.list_artifacts(RUN)}
eq(sorted(root), ["bundle", "config", "data.bin", "images", "nested", "notes"], "root listing")
eq(root["data.bin"], (False, len(BINARY)), "a file's entry")
check(root["bundle"][0] and root["bundle"][1] is None, f"a directory's entry: {root['bundle']}")
bundle_list = {f.path: (f.is_dir, f.file_size) for f in client.list_artifacts(RUN, "bundle")}
eq(bundle_list, {"bundle/a.txt": (False, 6), "bundle/b.csv": (False, 8), "bundle/sub": (True, None)},
   "bundle listing")
eq([f.path for f in client.list_artifacts(RUN, "nested/dir")], ["nested/dir/data.bin"], "nested listing")
eq(client.list_artifacts(RUN, "no-such-dir"), [], "an absent directory lists empty")

# Downloads, byte for byte.
with tempfile.TemporaryDirectory() as target:
    path = client.download_artifacts(RUN, "data.bin", target)
    with open(path, "rb") as f:
        eq(f.read(), BINARY, "data.bin bytes")
    folder = mlflow.artifacts.download_artifacts(run_id=RUN, artifact_path="bundle", dst_path=target)
    for name, content in FILES.items():
        with open(os.path.join(folder, name), "rb") as f:
            eq(f.read(), content, f"bundle/{name} bytes")
    everything = mlflow.artifacts.download_artifacts(run_id=RUN, dst_path=os.path.join(target, "all"))
    with open(os.path.join(everything, "nested", "dir", "data.bin"), "rb") as f:
        eq(f.read(), BINARY, "whole-run download")
eq(mlflow.artifacts.load_text(f"runs:/{RUN}/notes/readme.txt"), "hello ✓\nsecond line", "log_text")
eq(mlflow.artifacts.load_dict(f"runs:/{RUN}/config/params.json"), {"lr": 0.01, "layers": [64, 32], "name": "net"},
   "log_dict json")
eq(mlflow.artifacts.load_text(f"runs:/{RUN}/config/params.yaml"), "depth: 3\n", "log_dict yaml")
image = mlflow.artifacts.load_image(f"runs:/{RUN}/images/grid.png")
check(np.array_equal(np.asarray(image), PIXELS), "log_image pixels")
gray = mlflow.artifacts.load_image(f"runs:/{RUN}/images/gray.png")
check(np.array_equal(np.asarray(gray), PIXELS[:, :, 0]), "grayscale pixels")

if not REFERENCE:
    # The same files as Comet assets: the artifact path is the file name; images are image assets.
    assets = {a["fileName"]: a for a in comet("experiment/asset/list", experimentKey=RUN)["assets"]}
    expected = {"data.bin", "nested/dir/data.bin", "bundle/a.txt", "bundle/b.csv", "bundle/sub/c.json",
                "notes/readme.txt", "config/params.json", "config/params.yaml", "images/grid.png",
                "images/gray.png"}
    eq(set(assets), expected, "Comet asset names")
    eq(assets["data.bin"]["fileSize"], len(BINARY), "Comet asset size")
    eq(assets["images/grid.png"]["type"], "image", "a PNG is an image asset")
    body = comet("experiment/asset/get-asset", raw=True, experimentKey=RUN, assetId=assets["nested/dir/data.bin"]["assetId"])
    eq(body, BINARY, "Comet asset bytes")
    body = comet("experiment/asset/get-asset", raw=True, experimentKey=RUN, assetId=assets["config/params.json"]["assetId"])
    eq(json.loads(body), {"lr": 0.01, "layers": [64, 32], "name": "net"}, "Comet JSON asset")

ok("artifacts_check")
