//! What a command works on, resolved once from the parsed flags before it runs: the
//! kubeconfig context as kubectl picks it (with `--request-timeout` applied), the namespace or
//! every namespace (checked), and the terminal. Every command that talks to a cluster starts
//! with [`Target::resolve`] and connects through [`Target::connect`].

use crate::cli::GlobalFlags;
use crate::cluster::{Cluster, Namespaces};
use crate::error::{Error, Result};
use crate::kubeconfig::{self, SourceContext, SourceSelection};
use crate::names::validate_namespace;
use crate::ui::Ui;

/// A command's context.
pub struct Target {
    /// The kubeconfig context the command uses.
    pub source: SourceContext,
    /// `-A`: every namespace; otherwise the context's (or `-n`'s) namespace, validated.
    pub all_namespaces: bool,
    pub ui: Ui,
}

impl Target {
    /// Loads the context and checks the namespace flags. `all_namespaces` is the command's
    /// `-A`, which excludes `-n` wherever either is written.
    pub fn resolve(global: &GlobalFlags, all_namespaces: bool, ui: Ui) -> Result<Target> {
        if all_namespaces && global.namespace.is_some() {
            // clap sees the conflict only when both follow the subcommand.
            return Err(Error::Usage(
                "-A (all namespaces) and -n/--namespace exclude each other: pass one of them"
                    .into(),
            ));
        }
        let source = load_context(global)?;
        if !all_namespaces {
            validate_namespace(&source.namespace)?;
        }
        Ok(Target {
            source,
            all_namespaces,
            ui,
        })
    }

    /// [`Target::resolve`] for context `context` of the kubeconfig instead of `--context`'s
    /// (audit's fleet goes through every context this way).
    pub fn for_context(
        global: &GlobalFlags,
        context: &str,
        all_namespaces: bool,
        ui: Ui,
    ) -> Result<Target> {
        let global = GlobalFlags {
            context: Some(context.to_string()),
            ..global.clone()
        };
        Target::resolve(&global, all_namespaces, ui)
    }

    /// The namespace the command works in (with `-A`, the context's namespace).
    pub fn namespace(&self) -> &str {
        &self.source.namespace
    }

    /// Where to list: this namespace, or every namespace with `-A`.
    pub fn namespaces(&self) -> Namespaces<'_> {
        if self.all_namespaces {
            Namespaces::All
        } else {
            Namespaces::One(&self.source.namespace)
        }
    }

    /// A client for the context; one per run (an exec credential plugin runs each time one is
    /// built).
    pub fn connect(&self) -> Result<Cluster> {
        Cluster::connect(self.source.config.clone())
    }
}

/// The source context as kubectl would pick it, with `--request-timeout` applied.
pub(crate) fn load_context(global: &GlobalFlags) -> Result<SourceContext> {
    let mut source = kubeconfig::load_source(&SourceSelection {
        kubeconfig: global.kubeconfig.clone(),
        context: global.context.clone(),
        namespace: global.namespace.clone(),
    })?;
    if let Some(timeout) = global.request_timeout.filter(|t| !t.is_zero()) {
        source.config.read_timeout = Some(timeout);
        source.config.reset_reader_on_write = true;
        if source.config.connect_timeout.is_none_or(|t| t > timeout) {
            source.config.connect_timeout = Some(timeout);
        }
    }
    Ok(source)
}
