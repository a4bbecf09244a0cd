//! What a role allows, found by probing its rules with each permission check's requests
//! ([`Profile`]), computed once per distinct set of rules ([`Profiles`]).

use std::collections::HashMap;
use std::rc::Rc;

use crate::audit::model::RoleData;
use crate::audit::resolve::Grant;
use crate::audit::rules;
use crate::rbac::Rule;
use crate::rbac::matching::{self, verb_carries_name};
use crate::rbac::rule::WILDCARD;

/// One probe a role allows, and for which names (`None`: any).
#[derive(Debug, Clone)]
pub(super) struct Hit {
    pub(super) verb: &'static str,
    pub(super) group: &'static str,
    pub(super) resource: &'static str,
    pub(super) cluster: bool,
    pub(super) names: Option<Vec<String>>,
}

/// What a role's rules allow, computed once per role.
#[derive(Debug, Default)]
pub(super) struct Profile {
    /// Per permission check (index into [`rules::permission_checks`]).
    pub(super) hits: Vec<Vec<Hit>>,
    /// A rule with `*` verbs, groups and resources and no names.
    pub(super) full_control: bool,
    /// Rules with a wildcard anywhere.
    pub(super) wildcard: Vec<Rule>,
    /// Rules whose resource part has a wildcard (what a RoleBinding makes effective).
    pub(super) wildcard_resources: Vec<Rule>,
}

/// One probe request of a permission check, built once.
struct ProbeReq {
    check: usize,
    verb: &'static str,
    group: &'static str,
    resource: &'static str,
    cluster: bool,
    /// The subresource, `""` for none.
    sub: &'static str,
}

impl ProbeReq {
    /// `Rule::allows_ignoring_name` without building the combined resource string each time.
    fn allowed_by(&self, rule: &Rule) -> bool {
        matching::verb_matches(rule, self.verb)
            && matching::api_group_matches(rule, self.group)
            && matching::resource_matches(rule, self.resource, self.sub)
    }
}

/// Every probe request of every permission check, in catalogue order.
fn probe_table() -> &'static [ProbeReq] {
    static TABLE: std::sync::OnceLock<Vec<ProbeReq>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut out = Vec::new();
        for (check, c) in rules::permission_checks().iter().enumerate() {
            for set in c.probes {
                for &resource in set.resources {
                    for &verb in set.verbs {
                        out.push(ProbeReq {
                            check,
                            verb,
                            group: set.group,
                            resource,
                            cluster: set.cluster,
                            sub: resource.split_once('/').map_or("", |(_, sub)| sub),
                        });
                    }
                }
            }
        }
        out
    })
}

/// The probes of each API group, as indices into [`probe_table`] in table order.
fn probes_by_group() -> &'static HashMap<&'static str, Vec<usize>> {
    static INDEX: std::sync::OnceLock<HashMap<&'static str, Vec<usize>>> =
        std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let mut index: HashMap<&'static str, Vec<usize>> = HashMap::new();
        for (i, p) in probe_table().iter().enumerate() {
            index.entry(p.group).or_default().push(i);
        }
        index
    })
}

/// The distinct strings a list field of the rules names.
fn named(rules: &[Rule], list: fn(&Rule) -> &Vec<String>) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for x in rules.iter().flat_map(list) {
        if !out.contains(&x.as_str()) {
            out.push(x);
        }
    }
    out
}

/// What `rules` allow: every probe they pass, per permission check.
fn profile(rules: &[Rule]) -> Profile {
    let table = probe_table();
    let mut hits: Vec<Vec<Hit>> = vec![Vec::new(); rules::permission_checks().len()];
    // Only probes of the groups and verbs the rules name at all can be allowed: look those up
    // instead of trying every probe against every rule (roles are many, probes hundreds).
    let groups = named(rules, |r| &r.api_groups);
    let verbs = named(rules, |r| &r.verbs);
    let any_verb = verbs.contains(&WILDCARD);
    let candidates: Vec<usize> = if groups.contains(&WILDCARD) {
        (0..table.len()).collect()
    } else {
        let index = probes_by_group();
        let mut c: Vec<usize> = groups
            .iter()
            .filter_map(|g| index.get(g))
            .flatten()
            .copied()
            .collect();
        // Table order, so that hits come out as before.
        c.sort_unstable();
        c
    };
    for p in candidates.into_iter().map(|i| &table[i]) {
        if !any_verb && !verbs.contains(&p.verb) {
            continue;
        }
        let mut any_name = false;
        let mut names: Vec<String> = Vec::new();
        let mut hit = false;
        for rule in rules.iter().filter(|r| p.allowed_by(r)) {
            if rule.resource_names.is_empty() {
                any_name = true;
                hit = true;
            } else if verb_carries_name(p.verb) {
                hit = true;
                for n in &rule.resource_names {
                    if !names.contains(n) {
                        names.push(n.clone());
                    }
                }
            }
        }
        if hit {
            hits[p.check].push(Hit {
                verb: p.verb,
                group: p.group,
                resource: p.resource,
                cluster: p.cluster,
                names: (!any_name).then_some(names),
            });
        }
    }
    let is_all = |l: &[String]| l.iter().any(|x| x == WILDCARD);
    Profile {
        hits,
        full_control: rules.iter().any(|r| {
            is_all(&r.verbs)
                && is_all(&r.api_groups)
                && is_all(&r.resources)
                && r.resource_names.is_empty()
        }),
        wildcard: rules
            .iter()
            .filter(|r| r.has_wildcard() && !r.allows_nothing())
            .cloned()
            .collect(),
        wildcard_resources: rules
            .iter()
            .filter_map(Rule::resource_part)
            .filter(|r| r.has_wildcard() && !r.allows_nothing())
            .collect(),
    }
}

/// A role's identity: its address in the snapshot.
pub(super) fn role_key(role: &RoleData) -> usize {
    role as *const RoleData as usize
}

/// The profiles of the roles seen so far; roles with identical rules share one.
#[derive(Default)]
pub(super) struct Profiles<'a> {
    list: Vec<Rc<Profile>>,
    by_role: HashMap<usize, usize>,
    by_rules: HashMap<&'a [Rule], usize>,
}

impl<'a> Profiles<'a> {
    /// Computes the profiles of the roles of `grants` not seen yet.
    pub(super) fn ensure(&mut self, grants: &[Grant<'a>]) {
        for role in grants.iter().filter_map(|g| g.role) {
            self.ensure_role(role);
        }
    }

    pub(super) fn ensure_role(&mut self, role: &'a RoleData) {
        if self.by_role.contains_key(&role_key(role)) {
            return;
        }
        let index = match self.by_rules.get(role.rules.as_slice()) {
            Some(&i) => i,
            None => {
                self.list.push(Rc::new(profile(&role.rules)));
                let i = self.list.len() - 1;
                self.by_rules.insert(role.rules.as_slice(), i);
                i
            }
        };
        self.by_role.insert(role_key(role), index);
    }

    /// The profile of `g`'s role, once ensured; `None` for a missing role.
    pub(super) fn of(&self, g: &Grant<'_>) -> Option<&Profile> {
        g.role.and_then(|r| self.of_role(r))
    }

    pub(super) fn of_role(&self, role: &RoleData) -> Option<&Profile> {
        self.by_role
            .get(&role_key(role))
            .map(|&i| self.list[i].as_ref())
    }

    /// The same, shared, for holding while the context changes.
    pub(super) fn rc(&self, g: &Grant<'_>) -> Option<Rc<Profile>> {
        g.role
            .and_then(|r| self.by_role.get(&role_key(r)))
            .map(|&i| Rc::clone(&self.list[i]))
    }
}
