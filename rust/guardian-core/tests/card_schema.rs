//! The card's one schema (`models/model_card.schema.json`) and the core's reader agree: the
//! schema's version is the core's, its `required` keys are exactly the fields `card.rs` reads
//! (each one refused when missing), and the shipped card conforms to it. The training
//! pipeline tests the cards it writes against the same file (scripts/tests/test_card.py).

use std::collections::BTreeSet;

use guardian_core::card::CARD_SCHEMA_VERSION;
use guardian_core::ModelCard;
use serde_json::{Map, Value};

const SCHEMA: &str = include_str!("../../../models/model_card.schema.json");
const SHIPPED: &str = include_str!("../../../models/model_card.json");

fn schema() -> Value {
    serde_json::from_str(SCHEMA).expect("the schema is JSON")
}

/// Follows a local `$ref` (`#/$defs/name`).
fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let path = r.strip_prefix('#').expect("a local $ref");
            root.pointer(path).expect("the $ref names a definition")
        }
        None => node,
    }
}

fn required(node: &Value) -> BTreeSet<String> {
    node["required"]
        .as_array()
        .expect("required is a list")
        .iter()
        .map(|k| k.as_str().expect("a key").to_owned())
        .collect()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().expect("an object").keys().cloned().collect()
}

#[test]
fn the_schema_version_is_the_cores() {
    let s = schema();
    assert_eq!(
        s["properties"]["schema_version"]["const"],
        Value::from(CARD_SCHEMA_VERSION)
    );
    assert!(required(&s).contains("schema_version"));
}

/// The fields the core reads are what `ModelCard` serializes back: the card, a model and a
/// tensor. The schema requires exactly those, no more (the rest is for people) and no fewer.
#[test]
fn the_required_keys_are_the_fields_the_core_reads() {
    let s = schema();
    let card = ModelCard::from_json(SHIPPED).expect("the shipped card parses");
    let read = serde_json::to_value(&card).expect("serializes");
    assert_eq!(required(&s), keys(&read), "card");
    let models = &s["properties"]["models"];
    assert_eq!(required(models), keys(&read["models"]), "models");
    for name in ["full", "acc_only"] {
        let model = resolve(&s, &models["properties"][name]);
        assert_eq!(required(model), keys(&read["models"][name]), "{name}");
        for tensor in ["input", "output"] {
            let t = resolve(&s, &model["properties"][tensor]);
            assert_eq!(
                required(t),
                keys(&read["models"][name][tensor]),
                "{name}.{tensor}"
            );
        }
    }
}

/// Removing any required key from the shipped card makes it no card for the core.
#[test]
fn a_card_missing_a_required_key_is_refused() {
    let s = schema();
    let shipped: Value = serde_json::from_str(SHIPPED).expect("json");
    let models = &s["properties"]["models"];
    let model = resolve(&s, &models["properties"]["full"]);
    let tensor = resolve(&s, &model["properties"]["input"]);
    let places: [(&str, &Value); 4] = [
        ("", &s),
        ("/models", models),
        ("/models/acc_only", model),
        ("/models/full/output", tensor),
    ];
    for (at, node) in places {
        for key in required(node) {
            let mut card = shipped.clone();
            card.pointer_mut(at)
                .and_then(Value::as_object_mut)
                .expect("an object in the card")
                .remove(&key);
            assert!(
                ModelCard::from_json(&card.to_string()).is_err(),
                "a card without {at}/{key} was accepted"
            );
        }
    }
}

/// Where `v` breaks `node` (the schema's keywords except `pattern` and `minLength`, which the
/// Python side checks); empty when it conforms.
fn errors(root: &Value, node: &Value, v: &Value, path: &str, out: &mut Vec<String>) {
    let node = resolve(root, node);
    let num = |k: &str| node.get(k).and_then(Value::as_f64);
    if let Some(t) = node.get("type").and_then(Value::as_str) {
        let ok = match t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "boolean" => v.is_boolean(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            other => panic!("type {other} is not used by the card schema"),
        };
        if !ok {
            out.push(format!("{path}: expected {t}, got {v}"));
            return;
        }
    }
    if node.get("const").is_some_and(|c| c != v) {
        out.push(format!("{path}: must be {}", node["const"]));
    }
    if let Some(e) = node.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            out.push(format!("{path}: must be one of {e:?}"));
        }
    }
    if let Some(x) = v.as_f64() {
        if num("minimum").is_some_and(|m| x < m)
            || num("maximum").is_some_and(|m| x > m)
            || num("exclusiveMinimum").is_some_and(|m| x <= m)
        {
            out.push(format!("{path}: {x} out of range"));
        }
    }
    if let Some(obj) = v.as_object() {
        object_errors(root, node, obj, path, out);
    }
    if let Some(items) = v.as_array() {
        let n = items.len() as f64;
        if num("minItems").is_some_and(|m| n < m) || num("maxItems").is_some_and(|m| n > m) {
            out.push(format!("{path}: {n} items"));
        }
        if let Some(item) = node.get("items") {
            for (i, x) in items.iter().enumerate() {
                errors(root, item, x, &format!("{path}[{i}]"), out);
            }
        }
    }
}

fn object_errors(
    root: &Value,
    node: &Value,
    obj: &Map<String, Value>,
    path: &str,
    out: &mut Vec<String>,
) {
    if node.get("required").is_some() {
        for k in required(node) {
            if !obj.contains_key(&k) {
                out.push(format!("{path}: missing {k}"));
            }
        }
    }
    let empty = Map::new();
    let props = node
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    for (k, x) in obj {
        let sub = format!("{path}.{k}");
        match (props.get(k), node.get("additionalProperties")) {
            (Some(p), _) => errors(root, p, x, &sub, out),
            (None, Some(Value::Bool(false))) => out.push(format!("{sub}: not in the schema")),
            (None, Some(extra)) if extra.is_object() => errors(root, extra, x, &sub, out),
            (None, _) => {}
        }
    }
}

#[test]
fn the_shipped_card_conforms_to_the_schema() {
    let s = schema();
    let card: Value = serde_json::from_str(SHIPPED).expect("json");
    let mut out = Vec::new();
    errors(&s, &s, &card, "$", &mut out);
    assert!(out.is_empty(), "{out:#?}");
    let mut broken = card.clone();
    broken["models"]["full"]["input"]["dtype"] = Value::from("float32");
    broken["window_frames"] = Value::from(100.5);
    broken["extra"] = Value::from(1);
    let mut out = Vec::new();
    errors(&s, &s, &broken, "$", &mut out);
    assert_eq!(out.len(), 3, "{out:#?}");
}
