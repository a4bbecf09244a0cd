//! `kubectl cicd argocd install`: read the manifest, transform it ([`super::transform`]),
//! check the guardrails, report, write the manifest (stdout or `-o`) and the CRDs' file, and
//! with `--apply` or `--dry-run` hand the objects to [`super::apply`].
//!
//! Without `--apply`/`--dry-run` and with `-n`, no cluster is needed: nothing but the files is
//! read or written. Every refusal (bad input, a guardrail at `--fail-on`, what you may not
//! grant) comes before the first write to the cluster.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use super::transform::{self, Options};
use super::{apply, guardrails, manifest, report, resources, source};
use crate::cli::{ArgocdInstallFlags, GlobalFlags};
use crate::error::{Error, Result};
use crate::names::validate_namespace;
use crate::progress::Progress;
use crate::target::Target;
use crate::ui::{Prompts, Ui};

pub async fn run(global: &GlobalFlags, flags: &ArgocdInstallFlags) -> Result<()> {
    let mut progress = Progress::default();
    let result = crate::interrupt::stoppable(run_with(global, flags, &mut progress)).await;
    progress.finish(result, Prompts::unless(flags.yes)).await
}

/// Whether the run talks to a cluster.
fn to_cluster(flags: &ArgocdInstallFlags) -> bool {
    flags.apply || flags.dry_run
}

async fn run_with(
    global: &GlobalFlags,
    flags: &ArgocdInstallFlags,
    progress: &mut Progress,
) -> Result<()> {
    let overrides = overrides(flags)?;
    let input = source::read(&flags.filename, global.request_timeout).await?;
    let objects = manifest::parse(&input.text).map_err(|e| Error::Manifest {
        what: input.label.clone(),
        detail: e.to_string(),
    })?;

    let ui_prompts = Prompts::unless(flags.yes);
    let target = match (&global.namespace, to_cluster(flags)) {
        (Some(ns), false) => {
            validate_namespace(ns)?;
            None
        }
        _ => Some(
            Target::resolve(global, false, Ui::detect(ui_prompts)).map_err(|e| {
                if to_cluster(flags) {
                    e
                } else {
                    Error::Usage(format!(
                        "no namespace given (-n) and none from the kubeconfig: {e}"
                    ))
                }
            })?,
        ),
    };
    let namespace = match &target {
        Some(t) => t.namespace().to_string(),
        None => global.namespace.clone().unwrap_or_default(),
    };
    let offline_ui;
    let ui = match &target {
        Some(t) => &t.ui,
        None => {
            offline_ui = Ui::detect(ui_prompts);
            &offline_ui
        }
    };

    let mut options = Options::new(&namespace);
    options.force = flags.force;
    options.redis_role = flags.redis_role;
    options.overrides = overrides;
    options.overwrite_resources = flags.overwrite_resources;

    // Bad input is refused before anything else, the cluster included.
    let manifest_error = |e: transform::TransformError| Error::Manifest {
        what: input.label.clone(),
        detail: e.to_string(),
    };
    let mut outcome = transform::transform(objects.clone(), &options).map_err(manifest_error)?;

    // With a cluster: who we are, what we may do there, what it serves, and which of the
    // Roles the manifest's bindings name but lacks exist there already.
    let session = match (&target, to_cluster(flags)) {
        (Some(t), true) => {
            *progress = Progress::new(&namespace);
            let session = apply::Session::open(t, &namespace, progress).await?;
            options.cluster_checked = true;
            for role in missing_roles(&objects) {
                if session.role_exists(&role).await? {
                    options.roles_in_cluster.insert(role);
                }
            }
            Some(session)
        }
        _ => None,
    };

    if session.is_some() {
        outcome = transform::transform(objects, &options).map_err(manifest_error)?;
    }
    let findings = guardrails::check(&outcome.objects);
    report::say(ui, &input.label, &namespace, &outcome, &findings);

    if !outcome.crds.is_empty() {
        write_file(&flags.crds_output, &manifest::to_yaml_stream(&outcome.crds))?;
        report::crds_note(ui, &flags.crds_output, outcome.crds.len());
    }
    let text = manifest::to_yaml_stream(&outcome.objects);
    match &flags.output {
        Some(path) => {
            write_file(path, &text)?;
            ui.ok(format!(
                "Wrote {} objects to {}",
                outcome.objects.len(),
                path.display()
            ));
        }
        None if !to_cluster(flags) => crate::ui::print_data(&text),
        None => {}
    }

    let failing: Vec<&guardrails::Finding> = findings
        .iter()
        .filter(|f| f.severity.fails(flags.fail_on))
        .collect();
    if !failing.is_empty() {
        let list = failing
            .iter()
            .map(|f| format!("  {} {}: {}", f.rule, f.object, f.message))
            .collect::<Vec<_>>()
            .join("\n");
        let done = if to_cluster(flags) {
            "Nothing was applied."
        } else {
            "The manifest was written all the same."
        };
        return Err(Error::Guardrails(format!(
            "{} guardrail finding{} at or above --fail-on {}:\n{list}\n{done} Fix them (an image tag, --resources), \
             or pass a higher --fail-on to accept them.",
            failing.len(),
            if failing.len() == 1 { "" } else { "s" },
            fail_on_label(flags.fail_on),
        )));
    }

    match session {
        Some(session) => {
            session
                .install(&outcome.objects, flags.dry_run, flags.yes, progress)
                .await
        }
        None => Ok(()),
    }
}

fn fail_on_label(f: crate::cli::FailOn) -> String {
    use clap::ValueEnum;
    f.to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

/// `--resources-file`, then each `--resources` on top.
fn overrides(flags: &ArgocdInstallFlags) -> Result<resources::Overrides> {
    let mut overrides = match &flags.resources_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| Error::Input {
                what: path.display().to_string(),
                detail: e.to_string(),
            })?;
            resources::Overrides::from_yaml(&text).map_err(|e| Error::Manifest {
                what: path.display().to_string(),
                detail: format!(
                    "not a resources file ({e}); expected COMPONENT or COMPONENT/CONTAINER mapped to \
                     {{requests: {{cpu, memory}}, limits: {{cpu, memory}}}}"
                ),
            })?
        }
        None => resources::Overrides::default(),
    };
    for flag in &flags.resources {
        overrides.add_flag(flag).map_err(Error::Usage)?;
    }
    Ok(overrides)
}

/// Roles that RoleBindings of the manifest name and the manifest does not hold.
fn missing_roles(objects: &[Value]) -> BTreeSet<String> {
    let held: BTreeSet<&str> = objects
        .iter()
        .filter(|o| o["kind"] == "Role")
        .filter_map(|o| o["metadata"]["name"].as_str())
        .collect();
    objects
        .iter()
        .filter(|o| o["kind"] == "RoleBinding" && o["roleRef"]["kind"] == "Role")
        .filter_map(|o| o["roleRef"]["name"].as_str())
        .filter(|r| !held.contains(r))
        .map(str::to_string)
        .collect()
}

/// Writes a whole file at once (a temporary file renamed over it), so that a failure leaves
/// the old file or none, never half of one.
fn write_file(path: &Path, text: &str) -> Result<()> {
    let failed = |e: std::io::Error| Error::Write {
        path: path.to_path_buf(),
        detail: e.to_string(),
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "manifest".into());
    let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, text).map_err(failed)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        failed(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn missing_roles_are_those_bound_and_not_held() {
        let objects = vec![
            json!({"kind": "Role", "metadata": {"name": "a"}}),
            json!({"kind": "RoleBinding", "metadata": {"name": "a"}, "roleRef": {"kind": "Role", "name": "a"}}),
            json!({"kind": "RoleBinding", "metadata": {"name": "b"}, "roleRef": {"kind": "Role", "name": "b"}}),
            json!({"kind": "RoleBinding", "metadata": {"name": "c"}, "roleRef": {"kind": "ClusterRole", "name": "c"}}),
        ];
        assert_eq!(missing_roles(&objects), BTreeSet::from(["b".to_string()]));
    }

    #[test]
    fn files_are_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.yaml");
        write_file(&path, "one").unwrap();
        write_file(&path, "two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
