"""The card schema (models/model_card.schema.json): the shipped card and a freshly made one conform,
the validator refuses what it should, and the version is checked where cards are read."""

from __future__ import annotations

import copy
import json

import pytest

from guardian_train import json_schema
from guardian_train.card import CARD_SCHEMA_VERSION, SCHEMA_PATH, SCORINGS, CardError, card_schema, read_card, schema_errors
from guardian_train.datasets import REPO_ROOT

SHIPPED = REPO_ROOT / "models" / "model_card.json"


def test_the_shipped_card_conforms_to_the_schema():
    assert schema_errors(read_card(SHIPPED)) == []


def test_the_schema_states_the_pipelines_version_and_the_cores_required_fields():
    s = card_schema()
    assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert s["properties"]["schema_version"] == {**s["properties"]["schema_version"], "const": CARD_SCHEMA_VERSION}
    # the fields card.rs reads (ModelCard, ModelSpec, TensorSpec); the Rust test checks the same list
    assert s["required"] == ["schema_version", "preprocessing_version", "sample_rate_hz", "window_frames", "hop_frames", "band",
                             "trigger_g", "models"]
    assert s["$defs"]["model"]["required"] == ["file", "channels", "requires_gyro", "input", "output", "scoring", "threshold", "sha256"]
    assert s["$defs"]["model"]["properties"]["scoring"]["enum"] == list(SCORINGS)
    assert s["$defs"]["tensor"]["required"] == ["shape", "dtype", "scale", "zero_point"]
    assert json_schema.unsupported_keywords(s) == []  # the validator checks everything the schema says
    assert json_schema.unsupported_keywords({"properties": {"a": {"format": "uri"}}}) == ["#/properties/a/format"]


@pytest.mark.parametrize("edit,where", [
    (lambda c: c.pop("trigger_g"), "missing required key 'trigger_g'"),
    (lambda c: c["models"]["acc_only"].pop("sha256"), "$.models.acc_only: missing required key 'sha256'"),
    (lambda c: c.__setitem__("schema_version", 1), "$.schema_version: must be 2"),
    (lambda c: c["models"]["acc_only"].pop("scoring"), "$.models.acc_only: missing required key 'scoring'"),
    (lambda c: c["models"]["full"].__setitem__("scoring", "median"), "$.models.full.scoring: must be one of"),
    (lambda c: c.__setitem__("window_frames", 100.0), "$.window_frames: expected integer"),
    (lambda c: c.__setitem__("band", [40]), "$.band: must have at least 2 items"),
    (lambda c: c["models"]["full"]["input"].__setitem__("dtype", "float32"), "$.models.full.input.dtype: must be one of"),
    (lambda c: c["models"]["full"]["output"].__setitem__("zero_point", 300), "$.models.full.output.zero_point: must be <= 127"),
    (lambda c: c["models"]["full"].__setitem__("sha256", "ABC"), "$.models.full.sha256: must match"),
    (lambda c: c["models"]["full"].__setitem__("requires_gyro", 1), "$.models.full.requires_gyro: expected boolean"),
    (lambda c: c.__setitem__("new_field", 1), "key 'new_field' is not in the schema"),
    (lambda c: c["models"]["full"]["metrics"].__setitem__("roc_auc", float("nan")), "$.models.full.metrics.roc_auc: expected number"),
])
def test_the_validator_refuses_what_the_schema_forbids(edit, where):
    card = copy.deepcopy(read_card(SHIPPED))
    edit(card)
    errs = schema_errors(card)
    assert any(where in e for e in errs), errs


def test_a_card_of_another_version_is_refused_where_it_is_read(tmp_path):
    card = json.loads(SHIPPED.read_text())
    card["schema_version"] = CARD_SCHEMA_VERSION + 1
    p = tmp_path / "model_card.json"
    p.write_text(json.dumps(card))
    with pytest.raises(CardError, match="schema_version 3"):
        read_card(p)
    from guardian_eval.export import split_subjects

    with pytest.raises(CardError, match="schema_version 3"):
        split_subjects(p, "test")


def test_the_schema_file_is_where_the_pipeline_looks():
    assert SCHEMA_PATH == REPO_ROOT / "models" / "model_card.schema.json" and SCHEMA_PATH.exists()
