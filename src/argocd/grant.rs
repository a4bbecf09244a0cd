//! `kubectl cicd argocd grant`: placeholder while it is built.

use crate::cli::{ArgocdGrantFlags, GlobalFlags};
use crate::error::{Error, Result};

pub async fn run(_global: &GlobalFlags, _flags: &ArgocdGrantFlags) -> Result<()> {
    Err(Error::Usage("not built yet".into()))
}
