//! The interactive choice of a Role's kinds, shared by `init` and `argocd grant`: a preset to
//! start from, a filterable multi-select over the kinds the cluster serves (each marked with
//! what the caller cannot grant and what is risky), which of them are read-only, and a
//! confirmation of risky ones. Flags given on the command line become the defaults.

use crate::cli::{PresetName, RoleFlags};
use crate::error::Result;
use crate::rbac::{self, READ_ONLY_VERBS, Request, Rule, Selection, ServedKind, Skipped};
use crate::ui::Ui;

use super::{kinds_from_flags, preset_selections, wizard_kinds};

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
/// may only read, then about risky permissions. An empty choice is explained and the list
/// asked again: it never ends the wizard.
pub fn ask_kinds(
    ui: &Ui,
    flags: &RoleFlags,
    served: &[ServedKind],
    held: &[Rule],
    who: &str,
) -> Result<Picked> {
    let (mut selections, skipped) = start_from_preset(ui, flags, served)?;
    loop {
        selections = pick_kinds(ui, served, held, selections, who)?;
        selections = pick_read_only(ui, selections, who)?;
        let allow_risky = confirm_risks(ui, &mut selections, flags.allow_risky)?;
        if !selections.is_empty() {
            return Ok(Picked {
                selections,
                skipped,
                allow_risky,
            });
        }
        ui.say(format!(
            "Without the risky kinds nothing is left for {who}: choose the kinds again."
        ));
    }
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

/// `deployments.apps (Deployment)`, or `deployments.apps/scale (kubectl scale of a
/// Deployment)`, with what the caller lacks to grant it.
fn kind_label(kind: &ServedKind, held: &[Rule]) -> String {
    let mut label = match kind.subresource_name() {
        Some("scale") => format!(
            "{} (kubectl scale of a {})",
            kind.group_resource(),
            kind.kind
        ),
        Some("status") => format!(
            "{} (a {}'s status, read-only)",
            kind.group_resource(),
            kind.kind
        ),
        _ => format!("{} ({})", kind.group_resource(), kind.kind),
    };
    // The risk first: a row too wide for the terminal is cut at its end.
    let risks = rbac::risky_findings(&[Rule::resource(
        &[&kind.group],
        &[&kind.resource],
        &["get", "create"],
    )]);
    if let Some(r) = risks.iter().find(|r| r.blocks_init()) {
        label.push_str(&format!("  [risky: {}]", r.category.id()));
    }
    let lacking: Vec<String> = rbac::builder::default_verbs(kind)
        .into_iter()
        .filter(|v| !rbac::rules_allow(held, &Request::parse(v, &kind.group, &kind.resource)))
        .collect();
    if !lacking.is_empty() {
        label.push_str(&format!("  [you cannot grant: {}]", lacking.join(", ")));
    }
    label
}

/// A filterable multi-select: narrow the list by a word, tick, repeat until done. Enter with
/// nothing chosen at all explains how to tick and shows the same list again.
fn pick_kinds(
    ui: &Ui,
    served: &[ServedKind],
    held: &[Rule],
    mut selections: Vec<Selection>,
    who: &str,
) -> Result<Vec<Selection>> {
    let all = wizard_kinds(served);
    // The filter of the list to show again (after an empty choice); `None` asks for one.
    let mut again: Option<String> = None;
    loop {
        let filter = match again.take() {
            Some(filter) => filter,
            None => {
                let chosen: Vec<String> =
                    selections.iter().map(|s| s.kind.group_resource()).collect();
                let chosen = if chosen.is_empty() {
                    vec!["nothing".to_string()]
                } else {
                    chosen
                };
                ui.say(crate::ui::wrap("Chosen so far:", &chosen, 100));
                ui.input("Filter the kinds by a word (empty shows all)", "", |_| {
                    Ok(())
                })?
            }
        };
        let f = filter.trim().to_lowercase();
        let shown: Vec<&ServedKind> = all
            .iter()
            .filter(|k| {
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
        if selections.is_empty() {
            ui.say(format!(
                "Nothing is chosen yet, and {who} needs at least one kind. Move to a kind with the \
                 arrow keys and press Space to tick it, then Enter to accept (Enter alone accepts \
                 the list as it is). Esc leaves the wizard."
            ));
            again = Some(filter);
            continue;
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
    // A subresource's read-only form is `get` (it serves no list or watch).
    let picked = ui.multi_select(
        &format!("Which of these may {who} only read (get, list, watch)?"),
        &labels,
        &read_only,
    )?;
    for (i, sel) in selections.iter_mut().enumerate() {
        if picked.contains(&i) {
            let verbs = rbac::builder::read_only_verbs(&sel.kind);
            sel.verbs = Some(verbs.iter().map(|v| v.to_string()).collect());
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
