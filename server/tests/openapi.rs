//! The REST API's description is derived from its handlers and types; this snapshot makes every
//! change to it visible in review. When the change is meant, write the new snapshot with
//! `UPDATE_SNAPSHOTS=1 cargo test -p server --test openapi` and commit it.

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots/openapi.json");

#[test]
fn the_openapi_document_matches_its_snapshot() {
    let document = server::api_v1::openapi();
    let text = serde_json::to_string_pretty(&document).expect("serialises") + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(SNAPSHOT, &text).expect("write the snapshot");
        return;
    }
    let expected = std::fs::read_to_string(SNAPSHOT).unwrap_or_default();
    assert!(
        text == expected,
        "the API's description changed; review the difference, then run \
         UPDATE_SNAPSHOTS=1 cargo test -p server --test openapi and commit {SNAPSHOT}\n\
         --- now:\n{text}"
    );
}

#[test]
fn every_route_and_error_is_described() {
    let document = serde_json::to_value(server::api_v1::openapi()).expect("serialises");
    assert_eq!(document["openapi"], "3.1.0");
    for (path, method) in [
        ("/functions", "get"),
        ("/functions/{id}", "get"),
        ("/functions/{id}", "patch"),
        ("/audit-events", "get"),
        ("/functions/{id}/test-events", "get"),
        ("/functions/{id}/test-events", "post"),
        ("/functions/{id}/test-events/{event_id}", "put"),
        ("/functions/{id}/test-events/{event_id}", "delete"),
        ("/functions/{id}/test-events/export", "get"),
        ("/functions/{id}/test-events/import", "post"),
        ("/evaluations", "post"),
    ] {
        let operation = &document["paths"][path][method];
        assert!(operation["operationId"].is_string(), "{method} {path}: {operation}");
        assert_eq!(
            operation["responses"]["401"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Error",
            "{method} {path}"
        );
    }
    let codes = &document["components"]["schemas"]["ErrorCode"]["enum"];
    assert!(codes.as_array().is_some_and(|c| c.contains(&"upstream".into())), "{codes}");
    let patch = &document["components"]["schemas"]["FunctionPatch"]["properties"];
    assert_eq!(patch["lifecycle"]["enum"], serde_json::json!(model::Lifecycle::names()));
    assert!(document["components"]["securitySchemes"]["token"].is_object());
}
