//! `audit -f`: the objects of files, as `kubectl apply -f` reads them, each with the file and
//! line it starts at.
//!
//! A path is a file, `-` for stdin, or a folder (every `.yaml`, `.yml` and `.json` file under
//! it, recursively, in name order). A file is one JSON document, or a YAML stream of any number
//! of documents (`helm template` and `kustomize build` write those); `List` kinds are unpacked.
//! The stream is split at its document markers (a `---` or `...` line, which YAML does not
//! allow inside a document) and each document is parsed on its own, so a finding can point at
//! the line its object starts on, and the YAML reader's limits (events, nodes, documents) apply
//! per document, scaled to the document's size, not to the file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::model::{Finding, Snapshot, SourceLocation as Location};
use super::resolve::{object_label, subject_label};
use super::snapshot;
use crate::error::{Error, Result};

/// One object read from a file, and where: the path as given (or under the folder given), and
/// the 1-based line its document (or, in a `List`, its item) starts on.
#[derive(Clone, Debug)]
pub struct Located {
    pub object: Value,
    pub location: Location,
}

/// Where each object of the files was read, by the label findings name objects with
/// (`RoleBinding team-a/deploy`, `ClusterRole edit`).
#[derive(Clone, Debug, Default)]
pub struct Sources(HashMap<String, Location>);

impl Sources {
    /// Remembers where an object was read (the first place, when the files hold it twice).
    fn record(&mut self, label: String, location: Location) {
        self.0.entry(label).or_insert(location);
    }

    /// Whether the files hold the object `kind` `namespace`/`name` (so the files' version
    /// stands in for the cluster's).
    pub fn holds(&self, kind: &str, namespace: Option<&str>, name: &str) -> bool {
        self.0.contains_key(&object_label(kind, namespace, name))
    }

    /// Where the object a finding is about was read: the object itself (findings about a
    /// binding, role or Secret), else the binding that grants it, else that binding's role,
    /// else the ServiceAccount. `None` when none of them came from a file.
    pub fn locate(&self, f: &Finding) -> Option<Location> {
        std::iter::once(subject_label(&f.subject))
            .filter(|_| !matches!(f.subject.kind.as_str(), "ServiceAccount" | "User" | "Group"))
            .chain(f.via.iter().map(|v| v.binding.clone()))
            .chain(f.via.iter().map(|v| v.role.clone()))
            .chain(std::iter::once(subject_label(&f.subject)))
            .find_map(|label| self.0.get(&label).cloned())
    }
}

/// Puts a namespaced object that names no namespace into `namespace`, as `kubectl apply -f`
/// does with the current namespace (`-n`, else the context's, else `default`).
fn default_namespace(object: &mut Value, namespace: &str) {
    const NAMESPACED: [&str; 4] = ["ServiceAccount", "Role", "RoleBinding", "Secret"];
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    if !NAMESPACED.contains(&kind) {
        return;
    }
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut)
        && meta
            .get("namespace")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        meta.insert("namespace".into(), Value::String(namespace.to_string()));
    }
}

/// The label findings name `o` by (`RoleBinding team-a/deploy`), when it has a kind and a name.
fn label(o: &Value) -> Option<String> {
    let text = |p: &str| {
        o.pointer(p)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let (kind, name) = (text("/kind")?, text("/metadata/name")?);
    Some(object_label(kind, text("/metadata/namespace"), name))
}

/// What a run of documents turns into, on the thread that parsed them: their objects as a
/// part of the snapshot, and where each was read.
#[derive(Debug, Default)]
struct Part {
    snapshot: Snapshot,
    sources: Vec<(String, Location)>,
    objects: usize,
}

impl Part {
    /// Puts `o` (its namespace defaulted to `namespace`) into the part.
    fn take(&mut self, mut o: Located, namespace: &str) {
        default_namespace(&mut o.object, namespace);
        if let Some(label) = label(&o.object) {
            self.sources.push((label, o.location));
        }
        snapshot::add_object(&mut self.snapshot, &o.object);
        self.objects += 1;
    }
}

/// What files hold, for the audit: their objects as a part of a snapshot (no time taken),
/// and where each was read.
#[derive(Debug, Default)]
pub struct FileObjects {
    pub snapshot: Snapshot,
    pub sources: Sources,
    /// Objects read (of every kind, also those the audit does not look at).
    pub objects: usize,
    /// Files read (stdin counts as one).
    pub files: usize,
}

/// Reads `paths` (namespaced objects without a namespace go into `namespace`) straight into
/// the snapshot: no object outlives its conversion.
pub fn read(paths: &[PathBuf], namespace: &str) -> Result<FileObjects> {
    let mut out = FileObjects::default();
    let take = |part: &mut Part, o: Located| part.take(o, namespace);
    read_paths_into(paths, &mut out.files, &take, &mut |part: Part| {
        snapshot::append(&mut out.snapshot, part.snapshot);
        for (label, location) in part.sources {
            out.sources.record(label, location);
        }
        out.objects += part.objects;
    })?;
    Ok(out)
}

/// The name stdin goes by in locations.
pub const STDIN: &str = "-";

/// Reads every object of `paths` (in order; a folder's files sorted by name), each put into
/// a part by `take` and the parts handed to `out` in order, counting the files in `files`.
fn read_paths_into<P: Default + Send>(
    paths: &[PathBuf],
    files: &mut usize,
    take: &(dyn Fn(&mut P, Located) + Sync),
    out: &mut dyn FnMut(P),
) -> Result<()> {
    let mut stdin_read = false;
    for path in paths {
        if path.as_os_str() == STDIN {
            if stdin_read {
                return Err(Error::Usage("-f - (stdin) can be given only once".into()));
            }
            stdin_read = true;
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|e| Error::Usage(format!("cannot read stdin (-f -): {e}")))?;
            *files += 1;
            read_text_into(&text, STDIN, take, out)?;
            continue;
        }
        for file in files_of(path)? {
            let shown = file.display().to_string();
            let text = std::fs::read_to_string(&file).map_err(|e| {
                Error::Usage(format!(
                    "cannot read {}: {}",
                    crate::text::printable(&shown),
                    io_reason(&e)
                ))
            })?;
            *files += 1;
            read_text_into(&text, &shown, take, out)?;
        }
    }
    Ok(())
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or folder".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::InvalidData => "it is not UTF-8 text".into(),
        _ => e.to_string(),
    }
}

/// `path` itself, or the manifest files under it.
fn files_of(path: &Path) -> Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path).map_err(|e| {
        Error::Usage(format!(
            "cannot read {}: {}",
            crate::text::printable(&path.display().to_string()),
            io_reason(&e)
        ))
    })?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut found = Vec::new();
    walk(path, &mut found)?;
    found.sort();
    if found.is_empty() {
        return Err(Error::Usage(format!(
            "folder {} holds no .yaml, .yml or .json file",
            crate::text::printable(&path.display().to_string())
        )));
    }
    Ok(found)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::Usage(format!(
            "cannot read folder {}: {}",
            crate::text::printable(&dir.display().to_string()),
            io_reason(&e)
        ))
    })?;
    for entry in entries.flatten() {
        let path = entry.path();
        // Not followed: a link may point back up the tree.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            walk(&path, found)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        {
            found.push(path);
        }
    }
    Ok(())
}

/// The objects of one file's text, put into parts by `take` on the threads that parse them
/// and handed to `out` in the file's order; `file` names it in locations and errors.
fn read_text_into<P: Default + Send>(
    text: &str,
    file: &str,
    take: &(dyn Fn(&mut P, Located) + Sync),
    out: &mut dyn FnMut(P),
) -> Result<()> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_start().starts_with(['{', '[']) {
        let doc: Value = serde_json::from_str(text).map_err(|e| {
            Error::Usage(format!(
                "{}:{}: not valid JSON: {e}",
                crate::text::printable(file),
                e.line()
            ))
        })?;
        let content = text.len() - text.trim_start().len();
        let start = line_of(text, content) + 1;
        let mut part = P::default();
        push_document(doc, text, 1, start, file, &mut |o| take(&mut part, o))?;
        out(part);
        return Ok(());
    }
    let docs = documents(text);
    // Runs of documents are parsed and converted on every core, each thread taking the next
    // run as it finishes one, and the parts are handed on in the file's order. A run's
    // parsed documents are gone once its objects are in its part.
    let runs: Vec<&[(usize, usize, &str)]> = docs.chunks(PARSE_RUN).collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(runs.len());
    let convert = |run: &[(usize, usize, &str)]| -> Result<P> {
        let mut part = P::default();
        for (first_line, start, body) in run {
            let doc = parse_yaml(body).map_err(|e| {
                Error::Usage(format!(
                    "{}:{start}: not valid YAML: {}",
                    crate::text::printable(file),
                    crate::text::one_line(&e)
                ))
            })?;
            push_document(doc, body, *first_line, *start, file, &mut |o| {
                take(&mut part, o)
            })?;
        }
        Ok(part)
    };
    if threads <= 1 {
        for run in &runs {
            out(convert(run)?);
        }
        return Ok(());
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut parts: Vec<(usize, Result<P>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(run) = runs.get(i) else {
                            return done;
                        };
                        let part = convert(run);
                        let failed = part.is_err();
                        done.push((i, part));
                        if failed {
                            // Later runs cannot be reported before this one's error.
                            next.fetch_add(runs.len(), std::sync::atomic::Ordering::Relaxed);
                            return done;
                        }
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a YAML parser thread does not panic"))
            .collect()
    });
    parts.sort_by_key(|(i, _)| *i);
    for (_, part) in parts {
        out(part?);
    }
    Ok(())
}

/// How many documents a thread parses and converts at a time.
const PARSE_RUN: usize = 256;

/// A document's objects: itself, or a `List`'s items, each at the line it starts on. `body`
/// is the document's text, whose first line is line `first_line` of the file; its content
/// starts on line `start`.
fn push_document(
    doc: Value,
    body: &str,
    first_line: usize,
    start: usize,
    file: &str,
    out: &mut dyn FnMut(Located),
) -> Result<()> {
    match doc {
        Value::Null => Ok(()),
        Value::Object(_) if is_list(&doc) => {
            let Value::Object(mut map) = doc else {
                unreachable!("matched an object")
            };
            let list_kind = map
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let item_kind = list_kind.strip_suffix("List").filter(|k| !k.is_empty());
            let Some(Value::Array(items)) = map.remove("items") else {
                return Ok(());
            };
            let mut cursor = 0;
            // Lines are counted on from the previous item's: items come in order.
            let (mut counted_to, mut line) = (0, first_line);
            for mut item in items {
                if let (Some(kind), Some(obj)) = (item_kind, item.as_object_mut())
                    && !obj.contains_key("kind")
                {
                    obj.insert("kind".into(), Value::String(kind.to_string()));
                }
                let offset = item_offset(body, &item, &mut cursor).max(counted_to);
                line += line_of(&body[counted_to..offset], offset - counted_to);
                counted_to = offset;
                push_document(item, &body[offset..], line, line, file, out)?;
            }
            Ok(())
        }
        Value::Object(_) => {
            out(Located {
                object: doc,
                location: Location {
                    file: file.to_string(),
                    line: start,
                },
            });
            Ok(())
        }
        _ => Err(Error::Usage(format!(
            "{}:{start}: a document is not a Kubernetes object (expected a mapping with apiVersion and kind)",
            crate::text::printable(file)
        ))),
    }
}

fn is_list(doc: &Value) -> bool {
    doc.get("items").is_some_and(Value::is_array)
        && doc
            .get("kind")
            .and_then(Value::as_str)
            .is_some_and(|k| k.ends_with("List"))
}

/// How far past the previous item a `List` item's name is looked for: an item's name comes
/// early in it, and a bound keeps a list whose names cannot be found linear.
const ITEM_NAME_WINDOW: usize = 64 * 1024;

/// Where a `List` item starts in its document's text: at the first mention of its name after
/// the previous item's (`cursor`), the line of its `name:`; the previous item's place when the
/// name cannot be found.
fn item_offset(body: &str, item: &Value, cursor: &mut usize) -> usize {
    let Some(name) = item
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    else {
        return *cursor;
    };
    let mut end = (*cursor + ITEM_NAME_WINDOW).min(body.len());
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    let window = &body[*cursor..end];
    let found = window.match_indices("name").find_map(|(at, _)| {
        let after = window[at + 4..].trim_start_matches('"');
        let value = after.strip_prefix(':')?.trim_start();
        let value = value.strip_prefix(['"', '\'']).unwrap_or(value);
        let rest = value.strip_prefix(name)?;
        (rest.is_empty() || rest.starts_with(['"', '\'', '\n', '\r', ',', '}', ' '])).then_some(at)
    });
    match found {
        Some(at) => {
            *cursor += at + 1;
            *cursor - 1
        }
        None => *cursor,
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count()
}

/// The documents of a YAML stream: the 1-based line each one's text starts on (its marker's
/// line), the line its content starts on, and its text. Comment-only and empty documents are
/// dropped.
fn documents(text: &str) -> Vec<(usize, usize, &str)> {
    let mut docs = Vec::new();
    let mut start_byte = 0;
    let mut start_line = 1;
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let bare = line.trim_end_matches(['\n', '\r']);
        let marker = ["---", "..."].iter().any(|m| {
            bare.strip_prefix(m)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
        });
        if marker {
            push_doc(&mut docs, &text[start_byte..offset], start_line);
            // `--- {a: 1}` carries content on the marker line: it belongs to the next document.
            let content = if bare.starts_with("---") {
                3
            } else {
                line.len()
            };
            start_byte = offset + content.min(line.len());
            start_line = index + 1;
        }
        offset += line.len();
    }
    push_doc(&mut docs, &text[start_byte..], start_line);
    docs
}

fn push_doc<'a>(docs: &mut Vec<(usize, usize, &'a str)>, body: &'a str, first_line: usize) {
    let content = (first_line..)
        .zip(body.split_inclusive('\n'))
        .find(|(_, l)| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#') && !t.starts_with('%')
        });
    if let Some((line, _)) = content {
        docs.push((first_line, line, body));
    }
}

/// One YAML document, with the reader's limits sized to it: the default budget refuses a
/// document of more than 250,000 nodes, which a `List` of a few thousand objects exceeds.
fn parse_yaml(body: &str) -> std::result::Result<Value, String> {
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget_for(body.len()));
    serde_saphyr::from_str_with_options(body, options).map_err(|e| e.to_string())
}

/// The reader's budget for a document of `len` bytes: every node and event takes at least a
/// byte or two of text, so the size bounds them; aliases stay bounded by the defaults, so an
/// alias bomb is still refused.
fn budget_for(len: usize) -> serde_saphyr::Budget {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_nodes = budget.max_nodes.max(len);
    budget.max_events = budget.max_events.max(2 * len);
    budget.max_total_scalar_bytes = budget.max_total_scalar_bytes.max(len);
    budget
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str, file: &str) -> Result<Vec<Located>> {
        let mut objects = Vec::new();
        let take = |part: &mut Vec<Located>, o: Located| part.push(o);
        read_text_into(text, file, &take, &mut |part: Vec<Located>| {
            objects.extend(part)
        })?;
        Ok(objects)
    }

    fn kinds_and_lines(objects: &[Located]) -> Vec<(String, usize)> {
        objects
            .iter()
            .map(|o| {
                (
                    format!(
                        "{}/{}",
                        o.object["kind"].as_str().unwrap_or(""),
                        o.object["metadata"]["name"].as_str().unwrap_or("")
                    ),
                    o.location.line,
                )
            })
            .collect()
    }

    #[test]
    fn documents_of_a_helm_stream_keep_their_lines() {
        let text = "---\n# Source: chart/templates/sa.yaml\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\n---\n# Source: chart/templates/crb.yaml\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: app\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\n---\n# only a comment\n...\n";
        let objects = read_text(text, "rendered.yaml").unwrap();
        assert_eq!(
            kinds_and_lines(&objects),
            [
                ("ServiceAccount/app".to_string(), 3),
                ("ClusterRoleBinding/app".to_string(), 9)
            ]
        );
        assert_eq!(objects[1].location.file, "rendered.yaml");
    }

    #[test]
    fn a_list_gives_its_items_with_their_kind_and_line() {
        let text = "apiVersion: v1\nkind: RoleBindingList\nitems:\n- metadata:\n    name: a\n    namespace: x\n  roleRef: {kind: Role, name: r}\n- metadata:\n    name: b\n    namespace: x\n  roleRef: {kind: Role, name: r}\n";
        let objects = read_text(text, "list.yaml").unwrap();
        assert_eq!(
            kinds_and_lines(&objects),
            [
                ("RoleBinding/a".to_string(), 5),
                ("RoleBinding/b".to_string(), 9)
            ]
        );
    }

    #[test]
    fn json_files_and_block_scalars_that_look_like_markers() {
        let json = "\n{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [{\"kind\": \"Role\", \"metadata\": {\"name\": \"r\"}}]}";
        let objects = read_text(json, "l.json").unwrap();
        assert_eq!(kinds_and_lines(&objects), [("Role/r".to_string(), 2)]);
        // `---` inside a line, or indented, is content.
        let text = "kind: ConfigMap\nmetadata: {name: c}\ndata:\n  a: |\n    --- not a marker\n";
        assert_eq!(read_text(text, "c.yaml").unwrap().len(), 1);
    }

    #[test]
    fn thousands_of_documents_and_a_large_list_are_read() {
        let many: String = (0..1_100)
            .map(|i| format!("---\nkind: Role\nmetadata: {{name: r{i}, namespace: n}}\nrules: [{{apiGroups: [''], resources: [pods], verbs: [get]}}]\n"))
            .collect();
        let objects = read_text(&many, "many.yaml").unwrap();
        assert_eq!(
            objects.len(),
            1_100,
            "more than the 1,024 documents of the default budget"
        );
        assert_eq!(objects[1_099].location.line, 1_099 * 4 + 2);
        // A List of thousands of objects is one document: its budget grows with its size
        // (the default refuses a document of more than 250,000 nodes).
        let items: Vec<String> = (0..2_000)
            .map(|i| {
                format!("- {{kind: ServiceAccount, metadata: {{name: s{i}, namespace: n}}}}\n")
            })
            .collect();
        let list = format!("kind: List\napiVersion: v1\nitems:\n{}", items.concat());
        let objects = read_text(&list, "big.yaml").unwrap();
        assert_eq!(objects.len(), 2_000);
        assert_eq!(objects[1_999].location.line, 2_003);
        let default = serde_saphyr::Budget::default();
        let big = budget_for(10 * default.max_nodes);
        assert_eq!(big.max_nodes, 10 * default.max_nodes);
        assert_eq!(big.max_aliases, default.max_aliases, "aliases stay bounded");
        assert_eq!(budget_for(10).max_nodes, default.max_nodes);
    }

    #[test]
    fn bad_input_is_a_usage_error_naming_the_file_and_line() {
        let err = read_text("kind: Role\nmetadata: {name: r\n", "bad.yaml").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.to_string().starts_with("bad.yaml:1: not valid YAML"),
            "{err}"
        );
        let err = read_text("---\n- a\n- b\n", "seq.yaml").unwrap_err();
        assert!(
            err.to_string()
                .contains("seq.yaml:2: a document is not a Kubernetes object"),
            "{err}"
        );
        let err = read_text("{\"kind\": ", "bad.json").unwrap_err();
        assert!(
            err.to_string().starts_with("bad.json:1: not valid JSON"),
            "{err}"
        );
    }

    #[test]
    fn odd_documents_comments_anchors_and_other_kinds() {
        // Empty and comment-only documents give nothing; anchors and aliases are expanded;
        // kinds the audit does not read are objects all the same.
        let text = "# leading comment\n---\n---\n# only a comment\n---\nkind: Role # trailing\nmetadata: &m {name: r, namespace: n}\nrules:\n- &rule {apiGroups: [''], resources: [pods], verbs: [get]}\n- *rule\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: 1}\n...\n";
        let objects = read_text(text, "odd.yaml").unwrap();
        assert_eq!(
            kinds_and_lines(&objects),
            [("Role/r".to_string(), 6), ("Deployment/d".to_string(), 12)]
        );
        assert_eq!(objects[0].object["rules"][1]["verbs"][0], "get");
        // A document that is a scalar is not an object; a duplicate key is not valid YAML.
        let err = read_text(
            "---\nkind: Role\nmetadata: {name: a}\n---\njust text\n",
            "s.yaml",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("s.yaml:5: a document is not a Kubernetes object"),
            "{err}"
        );
        let err = read_text(
            "kind: Role\nkind: ClusterRole\nmetadata: {name: a}\n",
            "d.yaml",
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("d.yaml:1: not valid YAML"),
            "{err}"
        );
    }

    /// `read` of `text` as one file, `namespace` for objects without one.
    fn read_file(text: &str, namespace: &str) -> Result<FileObjects> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("objects.yaml");
        std::fs::write(&path, text).unwrap();
        read(&[path], namespace)
    }

    #[test]
    fn runs_of_documents_parsed_apart_keep_the_files_order() {
        // More documents than one thread's run: parts come back in the file's order, the
        // first place of an object twice in the files is kept, and other kinds are counted.
        let n = 3 * PARSE_RUN + 7;
        let mut text: String = (0..n)
            .map(|i| format!("---\nkind: ServiceAccount\nmetadata: {{name: s{i}}}\n"))
            .collect();
        text.push_str("---\nkind: ServiceAccount\nmetadata: {name: s0}\n---\nkind: ConfigMap\nmetadata: {name: c}\n");
        let read = read_file(&text, "team-a").unwrap();
        assert_eq!(read.objects, n + 2);
        assert_eq!(read.files, 1);
        let names: Vec<String> = read
            .snapshot
            .service_accounts
            .iter()
            .map(|m| m.name.clone())
            .collect();
        let expected: Vec<String> = (0..n)
            .map(|i| format!("s{i}"))
            .chain(["s0".to_string()])
            .collect();
        assert_eq!(names, expected);
        assert!(
            read.snapshot
                .service_accounts
                .iter()
                .all(|m| m.namespace.as_deref() == Some("team-a"))
        );
        assert_eq!(read.sources.0["ServiceAccount team-a/s0"].line, 2);
        assert_eq!(
            read.sources.0[&format!("ServiceAccount team-a/s{}", n - 1)].line,
            3 * n - 1
        );
        assert!(read.sources.holds("ConfigMap", None, "c"));
        assert!(read.snapshot.roles.is_empty());
    }

    #[test]
    fn the_first_bad_document_is_reported_whichever_thread_reads_it() {
        let mut docs: Vec<String> = (0..4 * PARSE_RUN)
            .map(|i| format!("---\nkind: Role\nmetadata: {{name: r{i}}}\n"))
            .collect();
        docs[PARSE_RUN + 3] = "---\nkind: Role\nmetadata: {name: x\n".into();
        docs[3 * PARSE_RUN] = "---\n- not an object\n".into();
        let err = read_file(&docs.concat(), "default").unwrap_err();
        let line = 3 * (PARSE_RUN + 3) + 2;
        assert!(
            err.to_string()
                .contains(&format!("objects.yaml:{line}: not valid YAML")),
            "{err}"
        );
    }

    #[test]
    fn json_and_list_files_read_into_the_snapshot_with_their_lines() {
        let json = "{\"kind\": \"RoleBindingList\", \"items\": [\n{\"metadata\": {\"name\": \"b\"},\n \"roleRef\": {\"kind\": \"ClusterRole\", \"name\": \"view\"},\n \"subjects\": [{\"kind\": \"ServiceAccount\", \"name\": \"ci\"}]}]}";
        let read = read_file(json, "shop").unwrap();
        assert_eq!(read.objects, 1);
        let b = &read.snapshot.role_bindings[0];
        assert_eq!(b.meta.namespace.as_deref(), Some("shop"));
        assert_eq!(b.subjects[0].namespace.as_deref(), Some("shop"));
        assert_eq!(read.sources.0["RoleBinding shop/b"].line, 2);
    }
}
