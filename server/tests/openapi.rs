//! The OpenAPI document (`GET /api/v1/openapi.json`) against the routes table the router is
//! built from ([`server::api::routes`]): every route is documented and nothing else is, and
//! every operation lists the errors it answers in the one error shape, whose `code`s are the
//! error type's ([`AppError::code`]). No console is started: the document is built directly.

use serde_json::Value;
use server::api::document;
use server::api::routes;
use server::error::AppError;
use std::collections::BTreeSet;

/// The document as clients read it.
fn doc() -> Value {
    serde_json::to_value(document()).expect("the document serializes")
}

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Every operation of the document: `(method, path, operation)`, the method in lower case.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let paths = doc["paths"].as_object().expect("the document has paths");
    let mut all = vec![];
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("a path item is an object") {
            if METHODS.contains(&method.as_str()) {
                all.push((method.clone(), path.clone(), op.clone()));
            }
        }
    }
    all
}

/// One error of each kind. The match has no wildcard, so a new kind of error does not compile
/// here until it is added to the list.
fn each_error() -> Vec<AppError> {
    let each = vec![
        AppError::Unauthorized,
        AppError::BadCredentials,
        AppError::NoAccess { email: "a@example.org".into(), admins: "admins".into(), viewers: "viewers".into() },
        AppError::TooManyAttempts { minutes: 5 },
        AppError::Forbidden,
        AppError::NotFound,
        AppError::Conflict("taken".into()),
        AppError::Invalid { field: "slug".into(), message: "is required".into() },
        AppError::InvalidFields(vec![("slug".into(), "is required".into())]),
        AppError::Unavailable,
        AppError::Internal,
        AppError::Request("not JSON".into()),
        AppError::TooLarge { limit_kb: 256 },
    ];
    for e in &each {
        match e {
            AppError::Unauthorized
            | AppError::BadCredentials
            | AppError::NoAccess { .. }
            | AppError::TooManyAttempts { .. }
            | AppError::Forbidden
            | AppError::NotFound
            | AppError::Conflict(_)
            | AppError::Invalid { .. }
            | AppError::InvalidFields(_)
            | AppError::Unavailable
            | AppError::Internal
            | AppError::Request(_)
            | AppError::TooLarge { .. } => {}
        }
    }
    each
}

const ERROR_SCHEMA: &str = "#/components/schemas/ApiErrorBody";

/// Whether a response's body is the shared error shape.
fn is_error_body(response: &Value) -> bool {
    response["content"]["application/json"]["schema"]["$ref"] == ERROR_SCHEMA
}

#[test]
fn every_route_is_documented_and_nothing_else() {
    let table = routes();
    let served: BTreeSet<(String, String)> =
        table.iter().map(|r| (r.method.as_str().to_lowercase(), r.path.to_owned())).collect();
    assert_eq!(served.len(), table.len(), "a route is in the table twice");
    let doc = doc();
    let documented: BTreeSet<(String, String)> = operations(&doc).into_iter().map(|(m, p, _)| (m, p)).collect();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    assert!(undocumented.is_empty(), "routes missing from the OpenAPI document: {undocumented:?}");
    let not_served: Vec<_> = documented.difference(&served).collect();
    assert!(not_served.is_empty(), "documented, but not in server::api::routes(): {not_served:?}");
    assert_eq!(documented.len(), 27, "the API has 27 routes; update this count with the table");
}

#[test]
fn every_operation_lists_its_errors_in_the_error_shape() {
    let doc = doc();
    let statuses: BTreeSet<String> = each_error().iter().map(|e| e.status().to_string()).collect();
    let admin: BTreeSet<(String, String)> = routes()
        .iter()
        .filter(|r| r.role == domain::Role::Admin)
        .map(|r| (r.method.as_str().to_lowercase(), r.path.to_owned()))
        .collect();
    for (method, path, op) in operations(&doc) {
        let name = format!("{} {path}", method.to_uppercase());
        let responses = op["responses"].as_object().unwrap_or_else(|| panic!("{name} has no responses"));
        assert!(responses.keys().any(|s| s.starts_with('2')), "{name} documents no success");
        assert!(
            responses.iter().any(|(s, r)| s.starts_with('4') && is_error_body(r)),
            "{name} documents no 4xx with the error schema"
        );
        for (status, response) in responses {
            if status.as_str() >= "400" {
                assert!(is_error_body(response), "{name} answers {status} without the error schema: {response}");
                assert!(statuses.contains(status), "{name} documents {status}, which no AppError answers");
                assert!(response["description"].as_str().is_some_and(|d| !d.is_empty()), "{name} {status}");
            }
        }
        // Answered before the handler runs: by the gatekeeper and the route's role check.
        for status in ["401", "500"] {
            assert!(responses.contains_key(status), "{name} does not document {status}");
        }
        let needs_admin = admin.contains(&(method.clone(), path.clone()));
        assert_eq!(responses.contains_key("403"), needs_admin, "{name}: 403 is documented exactly for admin routes");
    }
}

#[test]
fn the_error_schema_lists_every_code_of_the_error_type() {
    let doc = doc();
    let code = &doc["components"]["schemas"]["ApiErrorBody"]["properties"]["error"]["properties"]["code"];
    let listed: BTreeSet<&str> =
        code["enum"].as_array().expect("`code` is an enum").iter().map(|c| c.as_str().expect("a string")).collect();
    let codes: BTreeSet<&str> = each_error().iter().map(AppError::code).collect();
    assert_eq!(listed, codes, "the document's codes and AppError::code() disagree");
    let error = &doc["components"]["schemas"]["ApiErrorBody"]["properties"]["error"];
    let required: Vec<&str> = error["required"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(required, ["code", "message"]);
    for field in ["field", "fields"] {
        assert!(error["properties"][field].is_object(), "the error schema has `{field}`");
    }
    assert_eq!(server::error::error_codes().len(), codes.len(), "each code is listed once");
}

#[test]
fn operation_ids_are_unique_and_references_resolve() {
    let doc = doc();
    let mut ids = BTreeSet::new();
    for (method, path, op) in operations(&doc) {
        let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
        assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
    }
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r);
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = vec![];
    refs(&doc, &mut all);
    assert!(all.contains(&ERROR_SCHEMA));
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("an unexpected $ref {r}"));
        assert!(doc["components"]["schemas"][name].is_object(), "{r} does not resolve");
    }
}

#[test]
fn path_parameters_and_csv_answers_are_documented() {
    let doc = doc();
    for (method, path, op) in operations(&doc) {
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        for segment in path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))) {
            assert!(
                params.iter().any(|p| p["name"] == segment && p["in"] == "path" && p["required"] == true),
                "{method} {path} does not document its path parameter {segment}"
            );
        }
        let ok = &op["responses"]["200"]["content"];
        if path.ends_with(".csv") {
            assert!(ok["text/csv"].is_object(), "{method} {path} answers text/csv: {ok}");
        } else if let Some(content) = ok.as_object() {
            assert!(content.contains_key("application/json"), "{method} {path} answers JSON: {ok}");
        }
    }
}
