//! CPU and memory requests and limits for Argo CD's containers: the default table (the values
//! the Compliant Kubernetes guide gives per component, and ours for what it does not cover),
//! per-component overrides from flags or a values file, and Kubernetes quantities, compared
//! so that a limit is never set below its request. Pure: no I/O.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The four values; `None` is not set (nothing to fill in, or nothing overridden).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Values {
    #[serde(default)]
    pub requests: Pair,
    #[serde(default)]
    pub limits: Pair,
}

/// cpu and memory, as Kubernetes quantity strings (`10m`, `64Mi`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pair {
    #[serde(default, deserialize_with = "quantity_text")]
    pub cpu: Option<String>,
    #[serde(default, deserialize_with = "quantity_text")]
    pub memory: Option<String>,
}

/// A quantity written as a number (`cpu: 1`) or a string (`cpu: "1"`, `cpu: 500m`).
fn quantity_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Text {
        S(String),
        N(serde_json::Number),
    }
    Ok(Option::<Text>::deserialize(d)?.map(|t| match t {
        Text::S(s) => s,
        Text::N(n) => n.to_string(),
    }))
}

impl Values {
    /// Fixed values (all four set).
    pub fn of(req_memory: &str, req_cpu: &str, lim_memory: &str, lim_cpu: &str) -> Values {
        Values {
            requests: Pair {
                cpu: Some(req_cpu.into()),
                memory: Some(req_memory.into()),
            },
            limits: Pair {
                cpu: Some(lim_cpu.into()),
                memory: Some(lim_memory.into()),
            },
        }
    }

    /// `self` with every value `over` sets replacing ours.
    pub fn merged(&self, over: &Values) -> Values {
        let pick = |a: &Option<String>, b: &Option<String>| b.clone().or_else(|| a.clone());
        Values {
            requests: Pair {
                cpu: pick(&self.requests.cpu, &over.requests.cpu),
                memory: pick(&self.requests.memory, &over.requests.memory),
            },
            limits: Pair {
                cpu: pick(&self.limits.cpu, &over.limits.cpu),
                memory: pick(&self.limits.memory, &over.limits.memory),
            },
        }
    }

    /// The four fields with their values, in the order they are reported.
    pub fn fields(&self) -> [(&'static str, &Option<String>); 4] {
        [
            ("requests.cpu", &self.requests.cpu),
            ("requests.memory", &self.requests.memory),
            ("limits.cpu", &self.limits.cpu),
            ("limits.memory", &self.limits.memory),
        ]
    }

    /// Every value set is a quantity, and each limit at least its request.
    pub fn check(&self, what: &str) -> Result<(), String> {
        for (field, value) in self.fields() {
            if let Some(v) = value
                && parse_quantity(v).is_none()
            {
                return Err(format!(
                    "{what}: {field} {v:?} is not a Kubernetes quantity (e.g. 250m or 0.5 for cpu, 128Mi or 1Gi for memory)"
                ));
            }
        }
        for (resource, request, limit) in [
            ("cpu", &self.requests.cpu, &self.limits.cpu),
            ("memory", &self.requests.memory, &self.limits.memory),
        ] {
            if let (Some(r), Some(l)) = (request, limit)
                && quantity_less(l, r)
            {
                return Err(format!(
                    "{what}: limits.{resource} {l} is below requests.{resource} {r}: the API server refuses a limit below its request"
                ));
            }
        }
        Ok(())
    }
}

/// Where a container's default values come from, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The guide's table, for the component.
    Guide,
    /// kubectl-cicd's default for containers the guide does not cover (HA-only components,
    /// and any component it does not name).
    OurDefault,
    /// An initContainer: the values of its pod's main container.
    MainContainer,
    /// `--resources` or `--resources-file`.
    Override,
}

/// The guide's per-component values (Compliant Kubernetes' CI/CD page, 2022): requests
/// memory and cpu, then limits memory and cpu, for the main container of each workload of
/// the non-HA manifest. Keyed by component: the workload's name without `argocd-`.
pub fn guide(component: &str) -> Option<Values> {
    let v = match component {
        "application-controller" => Values::of("64Mi", "25m", "128Mi", "50m"),
        "applicationset-controller" | "dex-server" | "notifications-controller" => {
            Values::of("32Mi", "5m", "64Mi", "10m")
        }
        "redis" => Values::of("24Mi", "30m", "48Mi", "60m"),
        "repo-server" => Values::of("100Mi", "10m", "200Mi", "60m"),
        "server" => Values::of("50Mi", "5m", "100Mi", "10m"),
        _ => return None,
    };
    Some(v)
}

/// Our default for what the guide does not cover: the HA-only components (the Redis HA
/// servers with their sentinels, and HAProxy in front of them) and anything newer (the commit
/// server). Requests as small as the guide's smallest components (a small Go or C process
/// idles well below them); limits with room for bursts, since a container over its memory
/// limit is killed and Redis HA fails over when a sentinel is throttled too long.
pub fn our_default() -> Values {
    Values::of("32Mi", "10m", "64Mi", "50m")
}

/// Overrides, keyed `COMPONENT` (every container of its workloads) or `COMPONENT/CONTAINER`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub by_key: BTreeMap<String, Values>,
}

impl Overrides {
    /// Reads a values file: a mapping from `COMPONENT` or `COMPONENT/CONTAINER` to
    /// `{requests: {cpu, memory}, limits: {cpu, memory}}`, any of them left out.
    pub fn from_yaml(text: &str) -> Result<Overrides, String> {
        let by_key: BTreeMap<String, Values> =
            serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
        for (key, values) in &by_key {
            values.check(key)?;
        }
        Ok(Overrides { by_key })
    }

    /// Adds one `--resources` flag: `COMPONENT[/CONTAINER]:FIELD=QUANTITY,...` with FIELD one
    /// of `requests.cpu`, `requests.memory`, `limits.cpu`, `limits.memory`.
    pub fn add_flag(&mut self, flag: &str) -> Result<(), String> {
        let usage = || {
            format!(
                "--resources {flag:?}: expected COMPONENT[/CONTAINER]:FIELD=QUANTITY[,FIELD=QUANTITY...], \
                 e.g. repo-server:requests.memory=256Mi,limits.memory=1Gi (FIELD is requests.cpu, \
                 requests.memory, limits.cpu or limits.memory)"
            )
        };
        let (key, assignments) = flag.split_once(':').ok_or_else(usage)?;
        let key = key.trim();
        if key.is_empty() {
            return Err(usage());
        }
        let mut values = Values::default();
        for part in assignments
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (field, value) = part.split_once('=').ok_or_else(usage)?;
            let value = Some(value.trim().to_string());
            match field.trim() {
                "requests.cpu" => values.requests.cpu = value,
                "requests.memory" => values.requests.memory = value,
                "limits.cpu" => values.limits.cpu = value,
                "limits.memory" => values.limits.memory = value,
                _ => return Err(usage()),
            }
        }
        if values == Values::default() {
            return Err(usage());
        }
        let merged = self
            .by_key
            .get(key)
            .cloned()
            .unwrap_or_default()
            .merged(&values);
        merged.check(&format!("--resources {key}"))?;
        self.by_key.insert(key.to_string(), merged);
        Ok(())
    }

    /// The component part of each key, with the container part if any.
    pub fn keys(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.by_key.keys().map(|k| match k.split_once('/') {
            Some((c, container)) => (c, Some(container)),
            None => (k.as_str(), None),
        })
    }

    pub fn component(&self, component: &str) -> Option<&Values> {
        self.by_key.get(component)
    }

    pub fn container(&self, component: &str, container: &str) -> Option<&Values> {
        self.by_key.get(&format!("{component}/{container}"))
    }
}

/// A Kubernetes quantity's value in its base unit (cores, bytes): a decimal number with an
/// optional binary (`Ki` … `Ei`) or decimal (`n`, `u`, `m`, `k`, `M` … `E`) suffix, or an
/// exponent (`1e3`). `None` when it is not one.
pub fn parse_quantity(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() || t != text {
        return None;
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(t.len());
    let (number, suffix) = t.split_at(split);
    if number.is_empty()
        || number.matches('.').count() > 1
        || number[1..].contains(['+', '-'])
        || !number.chars().any(|c| c.is_ascii_digit())
    {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    let scale = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        s if s.starts_with(['e', 'E']) => {
            let exp: i32 = s[1..].parse().ok()?;
            10f64.powi(exp)
        }
        _ => return None,
    };
    (value >= 0.0).then_some(value * scale)
}

/// Whether quantity `a` is smaller than `b` (false when either does not parse).
pub fn quantity_less(a: &str, b: &str) -> bool {
    match (parse_quantity(a), parse_quantity(b)) {
        (Some(a), Some(b)) => a < b * (1.0 - 1e-12),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_parse_as_kubernetes_reads_them() {
        assert_eq!(parse_quantity("10m"), Some(0.01));
        assert_eq!(parse_quantity("1"), Some(1.0));
        assert_eq!(parse_quantity("0.5"), Some(0.5));
        assert_eq!(parse_quantity("64Mi"), Some(64.0 * 1024.0 * 1024.0));
        assert_eq!(parse_quantity("1G"), Some(1e9));
        assert_eq!(parse_quantity("1e3"), Some(1000.0));
        for bad in ["", "abc", "10 m", "1.2.3", "-1", "5Q", "Mi", " 1"] {
            assert_eq!(parse_quantity(bad), None, "{bad:?}");
        }
        assert!(quantity_less("500m", "1"));
        assert!(!quantity_less("1", "1000m"));
        assert!(quantity_less("128Mi", "1Gi"));
    }

    #[test]
    fn the_guides_table_is_complete_and_consistent() {
        for c in [
            "application-controller",
            "applicationset-controller",
            "dex-server",
            "notifications-controller",
            "redis",
            "repo-server",
            "server",
        ] {
            let v = guide(c).expect(c);
            assert!(v.fields().iter().all(|(_, v)| v.is_some()), "{c}");
            v.check(c).unwrap();
        }
        assert_eq!(guide("redis-ha-server"), None);
        our_default().check("default").unwrap();
        assert_eq!(
            guide("repo-server").unwrap(),
            Values::of("100Mi", "10m", "200Mi", "60m")
        );
    }

    #[test]
    fn flags_and_files_set_some_values() {
        let mut o = Overrides::default();
        o.add_flag("repo-server:requests.memory=256Mi,limits.memory=1Gi")
            .unwrap();
        o.add_flag("repo-server:limits.cpu=1").unwrap();
        let v = o.component("repo-server").unwrap();
        assert_eq!(v.requests.memory.as_deref(), Some("256Mi"));
        assert_eq!(v.limits.cpu.as_deref(), Some("1"));
        assert_eq!(v.requests.cpu, None);

        for bad in [
            "repo-server",
            "repo-server:",
            ":limits.cpu=1",
            "repo-server:limit.cpu=1",
            "repo-server:limits.cpu=lots",
            "repo-server:requests.memory=2Gi,limits.memory=1Gi",
        ] {
            assert!(Overrides::default().add_flag(bad).is_err(), "{bad}");
        }

        let file = Overrides::from_yaml(
            "server:\n  requests: {cpu: 1, memory: 64Mi}\nredis-ha-server/sentinel:\n  limits: {cpu: 20m}\n",
        )
        .unwrap();
        assert_eq!(
            file.component("server").unwrap().requests.cpu.as_deref(),
            Some("1")
        );
        assert_eq!(
            file.container("redis-ha-server", "sentinel")
                .unwrap()
                .limits
                .cpu
                .as_deref(),
            Some("20m")
        );
        let keys: Vec<_> = file.keys().collect();
        assert!(
            keys.contains(&("redis-ha-server", Some("sentinel"))),
            "{keys:?}"
        );
        assert!(Overrides::from_yaml("server:\n  request: {cpu: 1}\n").is_err());
        assert!(
            Overrides::from_yaml("server:\n  limits: {cpu: 1m}\n  requests: {cpu: 2}\n").is_err()
        );
    }
}
