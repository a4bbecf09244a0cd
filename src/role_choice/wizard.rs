//! The interactive choice of a Role's kinds, shared by `init` and `argocd grant`: a preset to
//! start from, a filterable multi-select over the kinds the cluster serves (each marked with
//! what the caller cannot grant and what is risky), which of them are read-only, and a
//! confirmation of risky ones. Flags given on the command line become the defaults.

use crate::cli::{PresetName, RoleFlags};
use crate::error::{Error, Result};
use crate::rbac::{self, READ_ONLY_VERBS, Request, Rule, Selection, ServedKind, Skipped};
use crate::ui::Ui;

use super::{grantable_kinds, kinds_from_flags, preset_selections};

const PRESETS: &[(Option<PresetName>, &str)] = &[
    (
        Some(PresetName::WebApp),
        "web-app      deployments, services, ingresses, autoscalers, configmaps",
    ),
    (
        Some(PresetName::Helm),
        "helm         web-app + secrets (Helm release storage) + replicasets",
    ),
    (
        Some(PresetName::WelkinDemo),
        "welkin-demo  the Welkin user demo's ci-cd Role",
    ),
    (None, "none         I will pick the kinds myself"),
];

/// What the wizard settled on.
#[derive(Debug, Clone)]
pub struct Picked {
    pub selections: Vec<Selection>,
    /// Kinds a preset asked for that the cluster cannot grant.
    pub skipped: Vec<Skipped>,
    pub allow_risky: bool,
}

/// Asks for the kinds `who` (`the pipeline`, `Argo CD`) may change, then which of them it
/// may only read, then about risky permissions.
pub fn ask_kinds(
    ui: &Ui,
    flags: &RoleFlags,
    served: &[ServedKind],
    held: &[Rule],
    who: &str,
) -> Result<Picked> {
    let (mut selections, skipped) = start_from_preset(ui, flags, served)?;
    selections = pick_kinds(ui, served, held, selections, who)?;
    if selections.is_empty() {
        return Err(Error::Usage("no kinds chosen: nothing to grant".into()));
    }
    selections = pick_read_only(ui, selections, who)?;
    let allow_risky = confirm_risks(ui, &mut selections, flags.allow_risky)?;
    Ok(Picked {
        selections,
        skipped,
        allow_risky,
    })
}

fn start_from_preset(
    ui: &Ui,
    flags: &RoleFlags,
    served: &[ServedKind],
) -> Result<(Vec<Selection>, Vec<Skipped>)> {
    let (mut selections, mut skipped) = (Vec::new(), Vec::new());
    if !flags.kinds.is_empty() || !flags.read_only_kinds.is_empty() {
        // Kinds on the command line (with or without a preset): start from them.
        return kinds_from_flags(flags, served);
    }
    let items: Vec<String> = PRESETS.iter().map(|(_, label)| label.to_string()).collect();
    let default = PRESETS
        .iter()
        .position(|(p, _)| *p == flags.preset.or(Some(PresetName::WebApp)))
        .unwrap_or(0);
    let picked = ui.select(
        "Start from a preset (you can change the kinds next)",
        &items,
        default,
    )?;
    if let Some(preset) = PRESETS[picked].0 {
        (selections, skipped) = preset_selections(preset, served);
        for s in &skipped {
            ui.warn(format!(
                "preset kind {}: {}",
                rbac::rule::group_resource(&s.want.group, &s.want.resource),
                s.reason
            ));
        }
    }
    Ok((selections, skipped))
}

/// `deployments.apps (Deployment)`, with what the caller lacks to grant it.
fn kind_label(kind: &ServedKind, held: &[Rule]) -> String {
    let mut label = format!("{} ({})", kind.group_resource(), kind.kind);
    let lacking: Vec<String> = rbac::builder::default_verbs(kind)
        .into_iter()
        .filter(|v| !rbac::rules_allow(held, &Request::new(v, &kind.group, &kind.resource)))
        .collect();
    if !lacking.is_empty() {
        label.push_str(&format!("  [you cannot grant: {}]", lacking.join(", ")));
    }
    let risks = rbac::risky_findings(&[Rule::resource(
        &[&kind.group],
        &[&kind.resource],
        &["get", "create"],
    )]);
    if let Some(r) = risks.iter().find(|r| r.blocks_init()) {
        label.push_str(&format!("  [risky: {}]", r.category.id()));
    }
    label
}

/// A filterable multi-select: narrow the list by a word, tick, repeat until done.
fn pick_kinds(
    ui: &Ui,
    served: &[ServedKind],
    held: &[Rule],
    mut selections: Vec<Selection>,
    who: &str,
) -> Result<Vec<Selection>> {
    let all = grantable_kinds(served);
    loop {
        let chosen: Vec<String> = selections.iter().map(|s| s.kind.group_resource()).collect();
        ui.say(format!(
            "Chosen so far: {}",
            if chosen.is_empty() {
                "nothing".into()
            } else {
                chosen.join(", ")
            }
        ));
        let filter = ui.input("Filter the kinds by a word (empty shows all)", "", |_| {
            Ok(())
        })?;
        let shown: Vec<&ServedKind> = all
            .iter()
            .copied()
            .filter(|k| {
                let f = filter.trim().to_lowercase();
                f.is_empty()
                    || k.resource.contains(&f)
                    || k.group.contains(&f)
                    || k.kind.to_lowercase().contains(&f)
                    || k.short_names.iter().any(|s| s == &f)
            })
            .collect();
        if shown.is_empty() {
            ui.warn(format!("no kind matches {filter:?}"));
            continue;
        }
        let same = |s: &Selection, k: &ServedKind| {
            s.kind.group == k.group && s.kind.resource == k.resource
        };
        let labels: Vec<String> = shown.iter().map(|k| kind_label(k, held)).collect();
        let ticked: Vec<bool> = shown
            .iter()
            .map(|k| selections.iter().any(|s| same(s, k)))
            .collect();
        let picked = ui.multi_select(
            &format!("Kinds {who} may change (space ticks, enter accepts)"),
            &labels,
            &ticked,
        )?;
        for (i, kind) in shown.iter().enumerate() {
            let want = picked.contains(&i);
            if want && !ticked[i] {
                selections.push(Selection::new((*kind).clone()));
            } else if !want && ticked[i] {
                selections.retain(|s| !same(s, kind));
            }
        }
        if !ui.confirm("Look for more kinds?", false)? {
            return Ok(selections);
        }
    }
}

fn pick_read_only(ui: &Ui, mut selections: Vec<Selection>, who: &str) -> Result<Vec<Selection>> {
    let labels: Vec<String> = selections.iter().map(|s| s.kind.group_resource()).collect();
    let read_only: Vec<bool> = selections
        .iter()
        .map(|s| {
            s.wanted_verbs()
                .iter()
                .all(|v| READ_ONLY_VERBS.contains(&v.as_str()))
        })
        .collect();
    let picked = ui.multi_select(
        &format!("Which of these may {who} only read (get, list, watch)?"),
        &labels,
        &read_only,
    )?;
    for (i, sel) in selections.iter_mut().enumerate() {
        if picked.contains(&i) {
            sel.verbs = Some(READ_ONLY_VERBS.iter().map(|v| v.to_string()).collect());
        } else if read_only[i] {
            sel.verbs = None;
        }
    }
    Ok(selections)
}

/// Explains each risky permission and asks; declined risky kinds are dropped.
fn confirm_risks(ui: &Ui, selections: &mut Vec<Selection>, allowed_by_flag: bool) -> Result<bool> {
    let role = rbac::build_role(selections);
    let risks: Vec<rbac::Risk> = rbac::risky_findings(&role.rules)
        .into_iter()
        .filter(|r| r.blocks_init())
        .collect();
    if risks.is_empty() {
        return Ok(allowed_by_flag);
    }
    ui.heading("Risky permissions");
    for r in &risks {
        ui.warn(r.to_string());
    }
    if ui.confirm("Grant these risky permissions anyway?", allowed_by_flag)? {
        return Ok(true);
    }
    selections.retain(|s| {
        let rule = Rule::resource(&[&s.kind.group], &[&s.kind.resource], &["get", "create"]);
        !rbac::risky_findings(&[rule])
            .iter()
            .any(|r| r.blocks_init())
    });
    ui.say("Left out the risky kinds.");
    Ok(false)
}
