//! Protobuf request bodies (`application/vnd.kubernetes.protobuf`), as kubectl 1.32 and later
//! send them for built-in kinds: decoded as the real server decodes them, refused in its
//! words for custom resources and for bytes that are not a protobuf message.

use serde_json::json;

use crate::common::{client, raw, start};

const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

fn varint(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// A length-delimited field (strings, bytes, messages, map entries).
fn field(number: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    varint(number << 3 | 2, &mut out);
    varint(payload.len() as u64, &mut out);
    out.extend_from_slice(payload);
    out
}

fn varint_field(number: u64, value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    varint(number << 3, &mut out);
    varint(value, &mut out);
    out
}

fn entry(key: &str, value: &[u8]) -> Vec<u8> {
    [field(1, key.as_bytes()), field(2, value)].concat()
}

/// `k8s\0` + runtime.Unknown{typeMeta, raw}, as client-go's protobuf serializer writes it.
fn envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
    let type_meta = [field(1, api_version.as_bytes()), field(2, kind.as_bytes())].concat();
    let unknown = [
        field(1, &type_meta),
        field(2, raw),
        field(3, b""),
        field(4, b""),
    ]
    .concat();
    [b"k8s\0".as_slice(), &unknown].concat()
}

/// ObjectMeta as the Go marshaller writes it: every non-pointer field, empty or not.
fn object_meta(name: &str, labels: &[(&str, &str)]) -> Vec<u8> {
    let mut meta = [
        field(1, name.as_bytes()),
        field(2, b""),
        field(3, b""),
        field(4, b""),
        field(5, b""),
        field(6, b""),
        varint_field(7, 0),
        field(8, b""),
    ]
    .concat();
    for (k, v) in labels {
        meta.extend(field(11, &entry(k, v.as_bytes())));
    }
    meta
}

#[tokio::test]
async fn a_protobuf_config_map_is_stored_as_its_json() {
    let sandbox = start();
    let client = client(&sandbox, "alice", "team-a").await;
    let cm = [
        field(1, &object_meta("settings", &[("app", "web")])),
        field(2, &entry("mode", b"fast")),
        field(2, &entry("empty", b"")),
        field(3, &entry("blob", &[0, 159, 255])),
    ]
    .concat();
    let reply = raw(
        &client,
        "POST",
        "/api/v1/namespaces/team-a/configmaps",
        &[
            ("Content-Type", PROTOBUF),
            (
                "Accept",
                "application/vnd.kubernetes.protobuf, application/json",
            ),
        ],
        envelope("v1", "ConfigMap", &cm),
    )
    .await;
    assert_eq!(reply.code, 201, "{}", reply.body);
    assert_eq!(reply.header("content-type"), "application/json");
    let stored = sandbox
        .object("", "configmaps", "team-a", "settings")
        .expect("stored");
    assert_eq!(stored["data"], json!({"mode": "fast", "empty": ""}));
    assert_eq!(stored["binaryData"], json!({"blob": "AJ//"}));
    assert_eq!(stored["metadata"]["labels"], json!({"app": "web"}));
    let meta = stored["metadata"].as_object().unwrap();
    for dropped in ["generateName", "selfLink", "generation"] {
        assert!(
            !meta.contains_key(dropped),
            "empty {dropped} is left out: {meta:?}"
        );
    }
    assert_eq!(reply.json()["metadata"]["uid"], stored["metadata"]["uid"]);
}

#[tokio::test]
async fn a_protobuf_access_review_is_answered() {
    let sandbox = start();
    let client = client(&sandbox, "bob", "team-a").await;
    let attributes = [
        field(1, b"team-a"),
        field(2, b"create"),
        field(3, b"apps"),
        field(4, b"v1"),
        field(5, b"deployments"),
        field(6, b""),
        field(7, b""),
    ]
    .concat();
    let review = [
        field(1, &object_meta("", &[])),
        field(2, &field(1, &attributes)),
    ]
    .concat();
    let reply = raw(
        &client,
        "POST",
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        &[("Content-Type", PROTOBUF)],
        envelope(
            "authorization.k8s.io/v1",
            "SelfSubjectAccessReview",
            &review,
        ),
    )
    .await;
    assert_eq!(reply.code, 201, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["status"]["allowed"], true, "{body}");
    assert_eq!(
        body["spec"]["resourceAttributes"]["resource"],
        "deployments"
    );
}

#[tokio::test]
async fn custom_resources_take_no_protobuf() {
    let sandbox = start();
    let client = client(&sandbox, "admin", "demo").await;
    let body = envelope(
        "cert-manager.io/v1",
        "Certificate",
        &field(1, &object_meta("tls", &[])),
    );
    let reply = raw(
        &client,
        "POST",
        "/apis/cert-manager.io/v1/namespaces/demo/certificates",
        &[("Content-Type", PROTOBUF)],
        body,
    )
    .await;
    assert_eq!(reply.code, 415, "{}", reply.body);
    let status = reply.json();
    assert_eq!(status["reason"], "UnsupportedMediaType");
    assert_eq!(
        status["message"],
        "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml"
    );
}

#[tokio::test]
async fn bytes_that_are_not_protobuf_are_a_bad_request() {
    let sandbox = start();
    let client = client(&sandbox, "admin", "demo").await;
    let post = |body: Vec<u8>| {
        let client = client.clone();
        async move {
            raw(
                &client,
                "POST",
                "/api/v1/namespaces/demo/configmaps",
                &[("Content-Type", PROTOBUF)],
                body,
            )
            .await
        }
    };
    let reply = post(br#"{"kind":"ConfigMap"}"#.to_vec()).await;
    assert_eq!(reply.code, 400, "{}", reply.body);
    assert_eq!(reply.json()["reason"], "BadRequest");
    assert_eq!(
        reply.json()["message"],
        "the object provided is unrecognized (must be of type ConfigMap): provided data does not appear to be a protobuf message, expected prefix [107 56 115 0] ({\"kind\":\"ConfigMap\"})"
    );

    // A name field announcing 5 bytes and carrying 1.
    let reply = post(envelope("v1", "ConfigMap", &field(1, &[0x0a, 0x05, b'a']))).await;
    assert_eq!(reply.code, 400, "{}", reply.body);
    assert_eq!(
        reply.json()["message"],
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: unexpected EOF"
    );
    assert!(
        sandbox
            .objects("", "configmaps")
            .iter()
            .all(|c| c["metadata"]["name"] != "a"),
        "nothing is stored"
    );
}
