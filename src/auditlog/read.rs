//! Streams audit log files (plain or gzip, or stdin) line by line into [`super::event`],
//! keeping only what the caller asks for: memory does not grow with the size of the log.
//!
//! Every line is looked at for its time (the span of the log and its gaps), but only lines
//! that hold the caller's `needle` (a username, or the prefix every ServiceAccount's has) are
//! parsed as JSON: on a cluster's log that is a small part of it.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use memchr::memmem;

use super::event::{Event, Line, parse_line};
use super::time::parse_rfc3339;
use crate::error::{Error, Result};

/// The longest line read: an event with a large body logged at `RequestResponse` level fits;
/// a longer line is skipped and counted in [`FileStats::too_long`].
pub const MAX_LINE: usize = 64 << 20;
/// Hours of log tracked for gaps (about two years); a longer span is not checked for gaps.
const MAX_TRACKED_HOURS: usize = 2 * 366 * 24;
const BUFFER: usize = 1 << 20;

/// Where a log comes from: a file, or `-` for stdin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    File(PathBuf),
    Stdin,
}

impl Source {
    /// `-` is stdin; anything else a path.
    pub fn parse(text: &str) -> Source {
        if text == "-" {
            Source::Stdin
        } else {
            Source::File(PathBuf::from(text))
        }
    }

    /// As the user wrote it.
    pub fn label(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Stdin => "-".to_string(),
        }
    }

    /// The file's name without its folder, for annotations (no local paths in the cluster).
    pub fn short_label(&self) -> String {
        match self {
            Source::File(p) => p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| p.display().to_string()),
            Source::Stdin => "stdin".to_string(),
        }
    }
}

/// What was read from one source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileStats {
    pub label: String,
    pub gzip: bool,
    /// Bytes of log text (after decompression).
    pub bytes: u64,
    /// Non-empty lines.
    pub lines: u64,
    /// Lines that carry an event's `requestReceivedTimestamp`.
    pub events: u64,
    /// Lines holding the needle that are not an event after all (broken JSON, another kind).
    pub unreadable: u64,
    /// Lines longer than [`MAX_LINE`], skipped.
    pub too_long: u64,
    /// A line looked like a Google Cloud Logging entry (`protoPayload`): not a Kubernetes event.
    pub cloud_logging: bool,
}

/// What the whole log showed, besides the caller's own findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    pub files: Vec<FileStats>,
    /// The first and last event of anyone, in Unix seconds.
    pub first: Option<i64>,
    pub last: Option<i64>,
    /// Hours (Unix seconds / 3600) in which the log has any event; `None` once the log spans
    /// more than about two years.
    pub hours: Option<BTreeSet<i64>>,
    /// The log holds events of others than the watched identities: it is a whole cluster's
    /// log, so an hour without any event is a gap in it, not a quiet hour.
    pub others: bool,
}

/// An hour with no event at all, or a run of them: `(first hour, hours)`.
pub type Gap = (i64, i64);

impl Scan {
    /// Runs of hours without any event between the first and the last; empty when the log
    /// holds only the watched identities' events (then quiet hours are normal) or spans too
    /// long to track.
    pub fn gaps(&self) -> Vec<Gap> {
        let (Some(hours), true) = (&self.hours, self.others) else {
            return Vec::new();
        };
        let mut gaps = Vec::new();
        let mut previous: Option<i64> = None;
        for &h in hours {
            if let Some(p) = previous
                && h > p + 1
            {
                gaps.push((p + 1, h - p - 1));
            }
            previous = Some(h);
        }
        gaps
    }

    /// Bytes of log text read, all sources together.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum()
    }

    /// Events read, all sources together.
    pub fn events(&self) -> u64 {
        self.files.iter().map(|f| f.events).sum()
    }

    fn saw(&mut self, t: i64) {
        self.first = Some(self.first.map_or(t, |f| f.min(t)));
        self.last = Some(self.last.map_or(t, |l| l.max(t)));
        if let Some(hours) = &mut self.hours {
            hours.insert(t.div_euclid(3600));
            if hours.len() > MAX_TRACKED_HOURS {
                self.hours = None;
            }
        }
    }
}

/// Reads every source in turn. `needle` picks the lines worth parsing; `watch` gets each
/// event of those lines and says whether it was one of the identities it watches (a line
/// can hold the needle and be another user's).
///
/// Refused, before or while reading: a source that cannot be opened or read, a directory,
/// broken gzip, stdin given twice, the same file given twice, and a non-empty source none of
/// whose lines is an audit event.
pub fn scan(
    sources: &[Source],
    needle: &str,
    watch: &mut dyn FnMut(&Event) -> bool,
) -> Result<Scan> {
    check_sources(sources)?;
    let mut scan = Scan {
        hours: Some(BTreeSet::new()),
        ..Scan::default()
    };
    let finder = memmem::Finder::new(needle.as_bytes());
    let stamp = memmem::Finder::new(b"requestReceivedTimestamp");
    for source in sources {
        let (mut reader, gzip) = open(source)?;
        let mut stats = FileStats {
            label: source.label(),
            gzip,
            ..FileStats::default()
        };
        let mut first_other = true;
        let result = for_each_line(reader.as_mut(), MAX_LINE, &mut stats, &mut |line, stats| {
            let Some(at) = stamp.find(line) else {
                if first_other {
                    first_other = false;
                    stats.cloud_logging = memmem::find(line, b"protoPayload").is_some();
                }
                return;
            };
            stats.events += 1;
            if let Some(t) = time_after(&line[at..]) {
                scan.saw(t);
            }
            if finder.find(line).is_none() {
                scan.others = true;
                return;
            }
            match parse_line(line) {
                Line::Event(e) => {
                    if !watch(&e) {
                        scan.others = true;
                    }
                }
                Line::NotAnEvent | Line::NotJson => stats.unreadable += 1,
            }
        });
        if let Err(e) = result {
            return Err(read_error(source, gzip, &stats, &e));
        }
        if stats.lines > 0 && stats.events == 0 {
            return Err(not_an_audit_log(&stats));
        }
        scan.files.push(stats);
    }
    Ok(scan)
}

/// The time after `requestReceivedTimestamp` at the start of `text`, quoted or escaped
/// (`":"` or `\":\"` inside a wrapper's string).
fn time_after(text: &[u8]) -> Option<i64> {
    let rest = &text["requestReceivedTimestamp".len()..];
    let start = rest.iter().take(8).position(u8::is_ascii_digit)?;
    parse_rfc3339(&rest[start..])
}

/// Refuses sources that cannot be read as given: none, stdin twice, a file twice.
pub fn check_sources(sources: &[Source]) -> Result<()> {
    if sources.is_empty() {
        return Err(Error::Usage(
            "no audit log given: pass --audit-log FILE (repeatable; - for stdin)".into(),
        ));
    }
    if sources.iter().filter(|s| **s == Source::Stdin).count() > 1 {
        return Err(Error::Usage(
            "--audit-log - (stdin) was given more than once: stdin can be read only once".into(),
        ));
    }
    let mut seen: Vec<(PathBuf, &Path)> = Vec::new();
    for s in sources {
        let Source::File(path) = s else { continue };
        let Ok(real) = std::fs::canonicalize(path) else {
            continue;
        };
        if let Some((_, earlier)) = seen.iter().find(|(r, _)| *r == real) {
            return Err(Error::Usage(format!(
                "--audit-log {} and {} are the same file: give each log once, or its requests count twice",
                earlier.display(),
                path.display()
            )));
        }
        seen.push((real, path));
    }
    Ok(())
}

type Reader = Box<dyn BufRead>;

/// Opens a source, decompressing it when it starts as gzip does (whatever its name).
fn open(source: &Source) -> Result<(Reader, bool)> {
    let raw: Box<dyn Read> = match source {
        Source::Stdin => Box::new(std::io::stdin()),
        Source::File(path) => {
            if path.is_dir() {
                return Err(Error::AuditLog(format!(
                    "{} is a folder: pass the log files in it, e.g. --audit-log {}/audit.log (repeat --audit-log for each file)",
                    path.display(),
                    path.display()
                )));
            }
            let file = File::open(path).map_err(|e| {
                Error::AuditLog(format!("cannot read audit log {}: {e}", path.display()))
            })?;
            Box::new(file)
        }
    };
    let mut buffered = BufReader::with_capacity(BUFFER, raw);
    let head = buffered
        .fill_buf()
        .map_err(|e| Error::AuditLog(format!("cannot read audit log {}: {e}", source.label())))?;
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    if gzip {
        let decoder = flate2::bufread::MultiGzDecoder::new(buffered);
        Ok((Box::new(BufReader::with_capacity(BUFFER, decoder)), true))
    } else {
        Ok((Box::new(buffered), false))
    }
}

/// Calls `each` with every non-empty line (without its line break), up to `max` bytes
/// ([`MAX_LINE`]); longer lines are skipped and counted.
fn for_each_line(
    reader: &mut dyn BufRead,
    max: usize,
    stats: &mut FileStats,
    each: &mut dyn FnMut(&[u8], &mut FileStats),
) -> std::io::Result<()> {
    let mut emit = |line: &[u8], stats: &mut FileStats| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        stats.lines += 1;
        each(line, stats);
    };
    // The start of a line that did not fit in the reader's buffer; `skipping` once it has
    // grown past `max`, until the line ends.
    let mut pending: Vec<u8> = Vec::new();
    let mut skipping = false;
    loop {
        let chunk = match reader.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            if !pending.is_empty() && !skipping {
                emit(&pending, stats);
            }
            return Ok(());
        }
        stats.bytes += chunk.len() as u64;
        let mut used = 0;
        while let Some(i) = memchr::memchr(b'\n', &chunk[used..]) {
            let end = used + i;
            if skipping {
                skipping = false;
            } else if pending.len() + (end - used) > max {
                stats.too_long += 1;
                pending.clear();
            } else if pending.is_empty() {
                emit(&chunk[used..end], stats);
            } else {
                pending.extend_from_slice(&chunk[used..end]);
                emit(&pending, stats);
                pending.clear();
            }
            used = end + 1;
        }
        let rest = &chunk[used..];
        if !skipping {
            if pending.len() + rest.len() > max {
                stats.too_long += 1;
                pending = Vec::new();
                skipping = true;
            } else {
                pending.extend_from_slice(rest);
            }
        }
        let n = chunk.len();
        reader.consume(n);
    }
}

fn read_error(source: &Source, gzip: bool, stats: &FileStats, e: &std::io::Error) -> Error {
    let what = if gzip {
        "its gzip data is broken or cut short"
    } else {
        "reading failed"
    };
    Error::AuditLog(format!(
        "cannot read audit log {} after {} lines: {what} ({e})",
        source.label(),
        stats.lines
    ))
}

fn not_an_audit_log(stats: &FileStats) -> Error {
    let hint = if stats.cloud_logging {
        " It looks like a Google Cloud Logging export (protoPayload entries): GKE records Kubernetes \
         audit events as Cloud Audit Logs entries, which are not the same events; see docs/tighten.md."
    } else {
        ""
    };
    Error::AuditLog(format!(
        "{} is not an audit log: none of its {} lines is a Kubernetes audit event (audit.k8s.io/v1 \
         Event JSON, one a line, as kube-apiserver writes it with --audit-log-path).{hint}",
        stats.label, stats.lines
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn event_line(user: &str, verb: &str, time: &str) -> String {
        format!(
            r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/shop/services","verb":"{verb}","user":{{"username":"{user}"}},"objectRef":{{"resource":"services","namespace":"shop","apiVersion":"v1"}},"responseStatus":{{"code":200}},"requestReceivedTimestamp":"{time}","stageTimestamp":"{time}"}}"#
        )
    }

    const CI: &str = "system:serviceaccount:shop:ci-cd";

    fn scan_text(files: &[(&str, Vec<u8>)]) -> (Result<Scan>, Vec<Event>) {
        let dir = tempfile::tempdir().unwrap();
        let sources: Vec<Source> = files
            .iter()
            .map(|(name, bytes)| {
                let path = dir.path().join(name);
                std::fs::write(&path, bytes).unwrap();
                Source::File(path)
            })
            .collect();
        let mut seen = Vec::new();
        let scan = scan(&sources, CI, &mut |e| {
            let ours = e.user == CI;
            if ours {
                seen.push(e.clone());
            }
            ours
        });
        (scan, seen)
    }

    fn gzip(text: &str) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(text.as_bytes()).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn plain_and_gzip_logs_are_read_alike_and_only_the_watched_identity_is_kept() {
        let text = [
            event_line(CI, "create", "2026-01-05T10:00:00.000001Z"),
            event_line(
                "system:kube-controller-manager",
                "get",
                "2026-01-05T10:30:00Z",
            ),
            event_line(&format!("{CI}-other"), "get", "2026-01-05T11:00:00Z"),
            String::new(),
            event_line(CI, "get", "2026-01-05T12:00:00Z"),
        ]
        .join("\r\n");
        let (plain, seen_plain) = scan_text(&[("audit.log", text.clone().into_bytes())]);
        let mut members = gzip(&text[..text.len() / 2]);
        members.extend(gzip(&text[text.len() / 2..]));
        let (zipped, seen_zipped) = scan_text(&[("audit-1.log.gz", members)]);
        let (plain, zipped) = (plain.unwrap(), zipped.unwrap());
        assert_eq!(seen_plain, seen_zipped);
        assert_eq!(seen_plain.len(), 2);
        assert_eq!(seen_plain[1].verb, "get");
        assert!(!plain.files[0].gzip && zipped.files[0].gzip);
        assert_eq!(plain.files[0].lines, 4);
        assert_eq!(plain.files[0].events, 4);
        assert_eq!(zipped.files[0].events, 4);
        assert_eq!(plain.files[0].bytes, text.len() as u64);
        assert!(plain.others);
        assert_eq!(plain.first, parse_rfc3339(b"2026-01-05T10:00:00Z"));
        assert_eq!(plain.last, parse_rfc3339(b"2026-01-05T12:00:00Z"));
        assert!(plain.gaps().is_empty());
    }

    #[test]
    fn hours_without_any_event_are_gaps_only_in_a_whole_clusters_log() {
        let lines = [
            event_line("system:apiserver", "get", "2026-01-05T10:00:00Z"),
            event_line(CI, "get", "2026-01-05T11:10:00Z"),
            event_line(CI, "get", "2026-01-05T15:59:00Z"),
        ];
        let (scan, _) = scan_text(&[("a.log", lines.join("\n").into_bytes())]);
        let scan = scan.unwrap();
        let h = parse_rfc3339(b"2026-01-05T12:00:00Z").unwrap() / 3600;
        assert_eq!(scan.gaps(), vec![(h, 3)]);
        let only_ours = lines[1..].join("\n");
        let (scan, _) = scan_text(&[("b.log", only_ours.into_bytes())]);
        assert!(
            scan.unwrap().gaps().is_empty(),
            "quiet hours of one identity are no gap"
        );
    }

    #[test]
    fn files_that_are_not_audit_logs_are_refused_by_name() {
        let (scan, _) = scan_text(&[
            (
                "good.log",
                event_line(CI, "get", "2026-01-05T10:00:00Z").into_bytes(),
            ),
            ("kubeconfig", b"apiVersion: v1\nkind: Config\n".to_vec()),
        ]);
        let e = scan.unwrap_err().to_string();
        assert!(
            e.contains("kubeconfig is not an audit log: none of its 2 lines"),
            "{e}"
        );
        assert!(
            !e.contains("apiVersion"),
            "the file's content is never quoted: {e}"
        );

        let gke = r#"{"protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog"}}"#;
        let (scan, _) = scan_text(&[("gke.json", gke.as_bytes().to_vec())]);
        assert!(
            scan.unwrap_err()
                .to_string()
                .contains("Google Cloud Logging")
        );

        let (scan, _) = scan_text(&[("empty.log", Vec::new())]);
        assert_eq!(scan.unwrap().files[0].lines, 0, "an empty file is no error");
    }

    #[test]
    fn broken_gzip_folders_and_repeats_are_refused() {
        let mut cut = gzip(&event_line(CI, "get", "2026-01-05T10:00:00Z").repeat(50));
        cut.truncate(cut.len() / 2);
        let (scan, _) = scan_text(&[("cut.log.gz", cut)]);
        let e = scan.unwrap_err().to_string();
        assert!(e.contains("cut.log.gz") && e.contains("gzip"), "{e}");

        let dir = tempfile::tempdir().unwrap();
        let e = scan_sources(&[Source::File(dir.path().to_path_buf())]);
        assert!(e.contains("is a folder"), "{e}");
        let file = dir.path().join("audit.log");
        std::fs::write(&file, event_line(CI, "get", "2026-01-05T10:00:00Z")).unwrap();
        let again = dir.path().join(".").join("audit.log");
        let e = scan_sources(&[Source::File(file), Source::File(again)]);
        assert!(e.contains("are the same file"), "{e}");
        let e = scan_sources(&[Source::Stdin, Source::Stdin]);
        assert!(e.contains("more than once"), "{e}");
        let e = scan_sources(&[Source::File(dir.path().join("missing.log"))]);
        assert!(
            e.contains("cannot read audit log") && e.contains("missing.log"),
            "{e}"
        );
    }

    fn scan_sources(sources: &[Source]) -> String {
        scan(sources, CI, &mut |_| true).unwrap_err().to_string()
    }

    #[test]
    fn over_long_lines_are_skipped_and_counted() {
        let text = b"{\"a\":1}\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n{\"b\":2}";
        for chunk in [1, 4, 64] {
            let mut reader = BufReader::with_capacity(chunk, &text[..]);
            let mut stats = FileStats::default();
            let mut lines = Vec::new();
            for_each_line(&mut reader, 16, &mut stats, &mut |l, _| {
                lines.push(String::from_utf8_lossy(l).into_owned())
            })
            .unwrap();
            assert_eq!(
                lines,
                ["{\"a\":1}", "{\"b\":2}"],
                "reading {chunk} bytes at a time"
            );
            assert_eq!(stats.too_long, 1);
            assert_eq!(stats.lines, 2);
            assert_eq!(stats.bytes, text.len() as u64);
        }
    }
}
