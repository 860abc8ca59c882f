"""comet_ml API.query and get_query_variables against Cairn (spec §3.2 #6-7, §5)."""
import os
import secrets
from datetime import datetime, timedelta

from comet_ml import API, APIExperiment
from comet_ml.query import Environment, Metadata, Metric, Other, Parameter, Tag

WORKSPACE = os.environ.get("CAIRN_WORKSPACE", "default")
PROJECT = "query-" + secrets.token_hex(4)

api = API()


def make(name, loss, lr, optimizer, tags):
    exp = APIExperiment(workspace=WORKSPACE, project_name=PROJECT, experiment_name=name)
    exp.log_metric("loss", loss * 2, step=0)
    exp.log_metric("loss", loss, step=1)
    exp.log_parameter("lr", lr)
    exp.log_parameter("optimizer", optimizer)
    exp.log_other("team", "vision" if name != "c" else "audio")
    exp.add_tags(tags)
    return exp


experiments = {
    "a": make("a", 0.5, 0.01, "adam", ["baseline", "cnn"]),
    "b": make("b", 0.2, 0.1, "sgd", ["cnn"]),
    "c": make("c", 0.7, 0.05, "adamw", ["rnn"]),
}
name_of = {exp.id: name for name, exp in experiments.items()}


def names(expression, archived=False):
    found = api.query(WORKSPACE, PROJECT, expression, archived=archived)
    return sorted(name_of[e.id] for e in found)


# The variables comet_ml builds its queries from, typed by column-names.
variables = {repr(v) for v in api.get_query_variables(WORKSPACE, PROJECT)}
for expected in ["Metric('loss')", "Parameter('lr')", "Parameter('optimizer')", "Other('team')", "Tag('cnn')",
                 "Metadata('start_server_timestamp')", "Metadata('duration')"]:
    assert expected in variables, f"{expected} missing from {sorted(variables)}"

assert names(Metric("loss") < 0.6) == ["a", "b"], names(Metric("loss") < 0.6)
assert names(Metric("loss") >= 0.7) == ["c"]
assert names(Metric("loss") == 0.2) == ["b"]
assert names(Metric("loss") != 0.2) == ["a", "c"]
assert names(Metric("loss").between(0.4, 0.8)) == ["a", "c"]
assert names(~Metric("loss").between(0.4, 0.8)) == ["b"]
assert names(Parameter("lr") > 0.02) == ["b", "c"]
assert names((Metric("loss") < 0.6) & (Parameter("lr") > 0.02)) == ["b"]
assert names(Parameter("optimizer").startswith("adam")) == ["a", "c"]
assert names(Parameter("optimizer").endswith("w")) == ["c"]
assert names(Parameter("optimizer").contains("g")) == ["b"]
assert names(~Parameter("optimizer").contains("adam")) == ["b"]
assert names(Parameter("optimizer") == "sgd") == ["b"]
assert names(Other("team") == "audio") == ["c"]
assert names(Tag("cnn")) == ["a", "b"]
assert names(Tag("baseline") & (Metric("loss") < 0.6)) == ["a"]
assert names(Metadata("start_server_timestamp") > datetime.utcnow() - timedelta(hours=1)) == ["a", "b", "c"]
assert names(Metadata("start_server_timestamp") < datetime(2001, 1, 1)) == []
assert names(Metadata("duration") >= 0) == ["a", "b", "c"]
assert names(Metric("loss") == None) == []  # noqa: E711 - comet_ml's null test
assert names(Metric("loss") != None) == ["a", "b", "c"]  # noqa: E711

# Archived experiments are queried only when asked for.
experiments["c"].archive()
assert names(Tag("rnn")) == []
assert names(Tag("rnn"), archived=True) == ["c"]

# An unknown variable is answered client-side with no match.
assert names(Metric("no-such-metric") > 1) == []

print("OK query_check")
