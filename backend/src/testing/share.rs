//! Test events in the format of Lambda's shareable test events: one OpenAPI 3 document per
//! function (the schema `_<function>-schema` in the EventBridge Schemas registry
//! `lambda-testevent-schemas`), each event an entry of `components.examples` — its JSON under
//! `value`, its invocation type under `x-metadata.invocationType`. It is what the Lambda console
//! shares and `sam remote test-event get|put` reads and writes, so events move both ways:
//! `aws schemas describe-schema … --query Content` gives a document to import; an exported one goes
//! back with `aws schemas create-schema --type OpenApi3 --content file://…`.

use model::InvocationType;
use serde_json::{Map, Value, json};

use super::{EventInput, TestEvent};
use crate::error::{Error, Result};

/// The registry Lambda keeps shareable test events in.
pub const REGISTRY: &str = "lambda-testevent-schemas";

/// The registry's schema name for a function's events.
pub fn schema_name(function_name: &str) -> String {
    format!("_{function_name}-schema")
}

/// The document holding `events`: a schema of the first event's shape (as the registry's
/// discovery makes one), and every event as an example.
pub fn document(events: &[TestEvent]) -> Value {
    let mut examples = Map::new();
    let mut shape = None;
    for event in events {
        // Saved events were checked as JSON; one that is not any more is left out, not invented.
        let Ok(value) = serde_json::from_str::<Value>(&event.payload) else { continue };
        shape.get_or_insert_with(|| schema_of(&value));
        examples.insert(
            event.name.clone(),
            json!({ "value": value, "x-metadata": { "invocationType": event.invocation_type } }),
        );
    }
    json!({
        "openapi": "3.0.0",
        "info": { "version": "1.0.0", "title": "Event" },
        "paths": {},
        "components": {
            "schemas": { "Event": shape.unwrap_or_else(|| json!({ "type": "object" })) },
            "examples": examples,
        },
    })
}

/// The events of a shareable test event document, named as in it, `shared` as asked.
/// What is wrong with the document is said with where it is.
pub fn parse(text: &str, shared: bool) -> Result<Vec<EventInput>> {
    let invalid = |message: String| Error::invalid("document", message);
    let document: Value = serde_json::from_str(text).map_err(|e| {
        invalid(format!("not JSON: {e} (line {}, column {})", e.line(), e.column()))
    })?;
    let components = document.get("components").and_then(Value::as_object).ok_or_else(|| {
        invalid(format!(
            "no \"components\": a shareable test event document is the Content of a schema in the {REGISTRY} registry"
        ))
    })?;
    let Some(examples) = components.get("examples").and_then(Value::as_object) else {
        return Err(invalid("no events: \"components.examples\" is missing or empty".to_owned()));
    };
    if examples.is_empty() {
        return Err(invalid("no events: \"components.examples\" is empty".to_owned()));
    }
    examples
        .iter()
        .map(|(name, example)| {
            let value = example.get("value").ok_or_else(|| {
                invalid(format!("the event {name:?} has no \"value\" (its JSON)"))
            })?;
            let invocation_type = match example.pointer("/x-metadata/invocationType") {
                None | Some(Value::Null) => InvocationType::RequestResponse,
                Some(Value::String(kind)) => kind.parse().map_err(|_| {
                    invalid(format!(
                        "the event {name:?} has the invocation type {kind:?}: use RequestResponse, Event or DryRun"
                    ))
                })?,
                Some(other) => {
                    return Err(invalid(format!(
                        "the event {name:?} has the invocation type {other}: use RequestResponse, Event or DryRun"
                    )));
                }
            };
            Ok(EventInput {
                name: name.clone(),
                shared,
                invocation_type,
                qualifier: None,
                tenant_id: None,
                payload: serde_json::to_string_pretty(value).expect("a JSON value serialises"),
            })
        })
        .collect()
}

/// A JSON schema of `value`'s shape: objects with their properties (all required), arrays with
/// their first item's shape, and scalars by type — what the registry's discovery infers.
fn schema_of(value: &Value) -> Value {
    match value {
        Value::Object(fields) => {
            let properties: Map<String, Value> =
                fields.iter().map(|(k, v)| (k.clone(), schema_of(v))).collect();
            let mut required: Vec<&String> = fields.keys().collect();
            required.sort();
            json!({ "type": "object", "required": required, "properties": properties })
        }
        Value::Array(items) => match items.first() {
            Some(first) => json!({ "type": "array", "items": schema_of(first) }),
            None => json!({ "type": "array", "items": {} }),
        },
        Value::String(_) => json!({ "type": "string" }),
        Value::Number(n) if n.is_i64() || n.is_u64() => json!({ "type": "integer" }),
        Value::Number(_) => json!({ "type": "number" }),
        Value::Bool(_) => json!({ "type": "boolean" }),
        Value::Null => json!({}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, kind: InvocationType, payload: &str) -> TestEvent {
        TestEvent {
            test_event_id: uuid::Uuid::new_v4(),
            name: name.to_owned(),
            owner: "a@example.com".to_owned(),
            mine: true,
            shared: true,
            invocation_type: kind,
            qualifier: None,
            tenant_id: None,
            payload: payload.to_owned(),
            updated_at: time::OffsetDateTime::UNIX_EPOCH,
            versions: 0,
        }
    }

    #[test]
    fn an_exported_document_imports_as_the_same_events() {
        let events = [
            event("order-7", InvocationType::Event, r#"{"order": 7, "items": [{"sku": "a"}]}"#),
            event("ping", InvocationType::RequestResponse, r#"{"ping": true}"#),
        ];
        let document = document(&events);
        assert_eq!(document["openapi"], "3.0.0");
        let examples = &document["components"]["examples"];
        assert_eq!(examples["order-7"]["value"]["order"], 7);
        assert_eq!(examples["order-7"]["x-metadata"]["invocationType"], "Event");
        let shape = &document["components"]["schemas"]["Event"];
        assert_eq!(shape["properties"]["items"]["items"]["properties"]["sku"]["type"], "string");
        assert_eq!(shape["properties"]["order"]["type"], "integer");

        let back = parse(&document.to_string(), false).expect("parses");
        let by_name = |n: &str| back.iter().find(|e| e.name == n).expect(n);
        assert_eq!(by_name("order-7").invocation_type, InvocationType::Event);
        assert_eq!(by_name("ping").invocation_type, InvocationType::RequestResponse);
        let payload: Value = serde_json::from_str(&by_name("order-7").payload).expect("json");
        assert_eq!(payload, json!({"order": 7, "items": [{"sku": "a"}]}));
        assert!(back.iter().all(|e| !e.shared));
    }

    #[test]
    fn a_document_written_by_sam_or_the_console_imports() {
        // As `sam remote test-event put` writes it: a discovered schema, an example without
        // metadata (before invocation types were saved) and one with.
        let sam = r#"{"openapi":"3.0.0","info":{"version":"1.0.0","title":"Event"},"paths":{},
            "components":{"schemas":{"Event":{"type":"object","required":["a"],"properties":{"a":{"type":"number"}}}},
            "examples":{"old":{"value":{"a":1}},"async":{"value":{"a":2},"x-metadata":{"invocationType":"Event"}}}}}"#;
        let events = parse(sam, true).expect("parses");
        assert_eq!(events.len(), 2);
        assert!(events.iter().all(|e| e.shared));
        let kind = |n: &str| events.iter().find(|e| e.name == n).expect(n).invocation_type;
        assert_eq!(kind("old"), InvocationType::RequestResponse);
        assert_eq!(kind("async"), InvocationType::Event);
    }

    #[test]
    fn a_wrong_document_says_what_is_wrong() {
        let message = |text: &str| match parse(text, false) {
            Err(Error::Validation { field: "document", message }) => message,
            other => panic!("expected a document error, got {other:?}"),
        };
        assert!(message("{").starts_with("not JSON"));
        assert!(message("{}").contains("lambda-testevent-schemas"));
        assert!(message(r#"{"components":{}}"#).contains("no events"));
        assert!(
            message(r#"{"components":{"examples":{"x":{}}}}"#).contains("\"x\" has no \"value\"")
        );
        assert!(
            message(r#"{"components":{"examples":{"x":{"value":1,"x-metadata":{"invocationType":"Later"}}}}}"#)
                .contains("RequestResponse, Event or DryRun")
        );
    }
}
