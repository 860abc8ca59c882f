"""comet_ml 3.32.5 against Cairn: optimizations, code panels, dashboards and viz stores.

What the pinned client exposes for these areas:
- Optimizations: the public API attaches an experiment to one with log_other("optimizer_id")
  (what comet_ml's Optimizer does) and reads it back as APIExperiment.optimization_id. There is
  no public method for `get-best-experiment`; it is called through the client's own REST client
  (API._client.get_from_endpoint), which applies comet_ml's auth header and its exact-JSON
  content-type check.
- Code panels, dashboards, viz stores: comet_ml 3.32.5 has no public method for any of them.
  cometx (built on comet_ml) calls them through API._client exactly as below; this script makes
  the same calls, with the panel zip cometx's create_panel_zip writes.

Contract: env COMET_URL_OVERRIDE, COMET_API_KEY, CAIRN_WORKSPACE; own uniquely named project;
prints "OK optimizer_check" on success.
"""

import io
import json
import os
import secrets
import time
import zipfile

import comet_ml
from comet_ml.exceptions import CometRestApiException

WORKSPACE = os.environ.get("CAIRN_WORKSPACE", "default")
SUFFIX = secrets.token_hex(4)
PROJECT = "optimizer-check-%s" % SUFFIX


def panel_zip(name, code):
    """The zip cometx's create_panel_zip writes: one tempVisualizationTemplate.json."""
    template = {
        "templateName": name,
        "code": {
            "code": "",
            "css": "",
            "description": "",
            "html": "",
            "defaultConfig": "",
            "internalResources": [],
            "userResources": [],
            "pyCode": code.lstrip(),
            "type": "py",
            "pyConfig": "{}",
        },
        "createdAt": int(time.time() * 1000),
        "thumbnailName": "template-thumbnail-%s" % SUFFIX,
        "editable": True,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zip_fp:
        zip_fp.writestr("tempVisualizationTemplate.json", json.dumps(template))
    return buffer.getvalue()


def upload_panel(api, data, template_id=None):
    """cometx API.upload_panel_zip."""
    params = {"teamName": WORKSPACE}
    if template_id is not None:
        params["templateId"] = template_id
    response = api._client.post_from_endpoint(
        "write/template/upload",
        payload={},
        params=params,
        files={"file": ("panel-%s.zip" % SUFFIX, io.BytesIO(data))},
    )
    return response.json()


def expect_rest_error(call, sdk_error_code, what):
    try:
        call()
    except CometRestApiException as error:
        assert error.sdk_error_code == sdk_error_code, "%s: sdk_error_code %r" % (what, error.sdk_error_code)
        return
    raise AssertionError("%s: expected an error" % what)


def check_optimizer(api):
    optimization_id = secrets.token_hex(16)
    losses = {"a": [0.9, 0.25, 0.4], "b": [0.8, 0.3, 0.95], "c": []}
    keys = {}
    for label, values in losses.items():
        experiment = comet_ml.APIExperiment(workspace=WORKSPACE, project_name=PROJECT)
        experiment.log_other("optimizer_id", optimization_id)
        experiment.log_other("optimizer_metric", "loss")
        experiment.log_other("optimizer_objective", "minimize")
        for step, value in enumerate(values):
            experiment.log_metric("loss", value, step=step)
        keys[label] = experiment.id
    outsider = comet_ml.APIExperiment(workspace=WORKSPACE, project_name=PROJECT)
    outsider.log_metric("loss", -1.0, step=0)

    for key in keys.values():
        fetched = api.get_experiment_by_key(key)
        assert fetched.optimization_id == optimization_id, "optimization_id of %s: %r" % (key, fetched.optimization_id)
    listed = {e.id: e.optimization_id for e in api.get_experiments(WORKSPACE, PROJECT)}
    assert listed[outsider.id] is None, "an experiment without optimizer_id has no optimization: %r" % listed
    assert all(listed[key] == optimization_id for key in keys.values()), "listed optimization ids: %r" % listed

    def best(goal, metric="loss"):
        return api._client.get_from_endpoint(
            "get-best-experiment",
            {"optimizationId": optimization_id, "metricName": metric, "goal": goal},
        )

    assert best("MIN") == {"experimentKey": keys["a"], "metricValue": 0.25, "experimentCount": 3}, best("MIN")
    assert best("MAX") == {"experimentKey": keys["b"], "metricValue": 0.95, "experimentCount": 3}, best("MAX")
    none = best("MIN", metric="accuracy")
    assert none == {"experimentKey": None, "metricValue": None, "experimentCount": 3}, none
    expect_rest_error(
        lambda: api._client.get_from_endpoint(
            "get-best-experiment",
            {"optimizationId": secrets.token_hex(16), "metricName": "loss", "goal": "MIN"},
        ),
        5124123,
        "unknown optimization",
    )


def check_panels_and_dashboards(api):
    data = panel_zip("Check Panel %s" % SUFFIX, "from comet_ml import ui\nui.display('hello')\n")
    uploaded = upload_panel(api, data)
    template_id = uploaded["templateId"]
    assert uploaded["code"] == 200 and template_id, uploaded

    rows = api._client.get_from_endpoint("code-panel/get-all", {"workspace": WORKSPACE})["codePanelTemplateRows"]
    row = next((r for r in rows if r["templateId"] == template_id), None)
    assert row is not None, "uploaded panel missing from get-all"
    assert row["templateName"] == "Check Panel %s" % SUFFIX and row["scopeType"] == "PRIVATE", row

    panel = api._client.get_from_endpoint("code-panel/download", {"templateId": template_id})
    assert panel["code"]["type"] == "py", panel
    assert panel["code"]["pyCode"] == "from comet_ml import ui\nui.display('hello')\n", panel["code"]
    assert panel["editable"] is True and panel["rank"]["templateId"] == template_id, panel

    zipped = api._client.get_from_endpoint("template/%s/download" % template_id, {}, return_type="binary")
    assert zipped == data, "the panel zip must come back byte for byte"

    revised = upload_panel(api, panel_zip("Check Panel v2 %s" % SUFFIX, "print(2)"), template_id=template_id)
    assert revised["templateId"] == template_id, revised
    assert revised["revisionId"] > row["revisionId"], (revised, row)
    panel = api._client.get_from_endpoint("code-panel/download", {"templateId": template_id})
    assert panel["templateName"] == "Check Panel v2 %s" % SUFFIX and panel["code"]["pyCode"] == "print(2)", panel

    # cometx API.create_dashboard: the project id from the projects list, then create.
    projects = api._client.get_from_endpoint("projects", {"workspaceName": WORKSPACE})["projects"]
    project_id = next(p["projectId"] for p in projects if p["projectName"] == PROJECT)
    created = api._client.post_from_endpoint(
        "write/dashboard-template/create",
        payload={"project_id": project_id, "template_name": "Sweep", "codePanelTemplateIds": [template_id]},
    ).json()
    dashboard_id = created["template_id"]
    assert created["codePanelTemplateIds"] == [template_id], created

    listed = api._client.get_from_endpoint("dashboard-template/get-all", {"workspace": WORKSPACE})
    entry = next(d for d in listed["dashboardTemplates"] if d["templateId"] == dashboard_id)
    assert entry["projectId"] == project_id and entry["projectName"] == PROJECT and entry["templateName"] == "Sweep"

    saved = api._client.post_from_endpoint(
        "dashboard-templates/project/upsert",
        payload={
            "project_id": project_id,
            "template_id": dashboard_id,
            "template_name": "Sweep v2",
            "dashboardChartState": json.dumps({"python": [{"templateId": template_id}]}),
            "project_default": True,
        },
    ).json()
    assert saved["template_id"] == dashboard_id and saved["project_default"] is True, saved

    dashboard = api._client.get_from_endpoint(
        "dashboard-template/download", {"projectId": project_id, "templateId": dashboard_id}
    )
    assert dashboard["template_name"] == "Sweep v2", dashboard
    assert json.loads(dashboard["dashboardChartState"]) == {"python": [{"templateId": template_id}]}, dashboard
    assert dashboard["codePanelTemplateIds"] == [template_id], dashboard
    for key in ("experimentQueryState", "reactGridTableState", "v2", "created_by", "pinnedExperiments"):
        assert key in dashboard, "dashboard download lacks %s" % key

    instance_id = dashboard["codePanelInstances"][0]["instanceId"]
    via_instance = api._client.get_from_endpoint("code-panel/download", {"instanceId": instance_id})
    assert via_instance["templateId"] == template_id, via_instance

    store_query = {"instanceId": instance_id, "projectId": project_id}
    assert api._client.get_from_endpoint("viz-instance/store/get", store_query) == {"store": "{}"}
    written = api._client.post_from_endpoint(
        "write/viz-instance/store/set",
        payload={"instanceId": instance_id, "projectId": project_id, "store": {"selected": ["a"], "zoom": 2}},
    ).json()
    assert written["code"] == 200, written
    store = api._client.get_from_endpoint("viz-instance/store/get", store_query)["store"]
    assert json.loads(store) == {"selected": ["a"], "zoom": 2}, store


def main():
    # comet_ml's API caches GETs client-side and only forgets the reads it knows a write touches;
    # it knows none of these endpoints, so a cached API would show a panel's old revision.
    api = comet_ml.API(cache=False)
    check_optimizer(api)
    check_panels_and_dashboards(api)
    print("OK optimizer_check")


if __name__ == "__main__":
    main()
