//! `kubectl cicd version`: the plugin's version, then, as `kubectl version` does, the API
//! server's of the current context when it answers. The first line is `--version`'s.

use std::time::Duration;

use crate::cli::{GlobalFlags, VersionFlags};
use crate::cluster::Cluster;
use crate::text::{one_line, redact_userinfo};
use crate::ui::print_data;

/// How long the server may take to say its version without `--request-timeout`: `version`
/// is a quick look, not a wait through the retries.
const SERVER_WAIT: Duration = Duration::from_secs(10);

pub async fn run(global: &GlobalFlags, flags: &VersionFlags, client_line: &str) {
    print_data(client_line);
    if flags.client {
        return;
    }
    let source = match crate::target::load_context(global) {
        Ok(source) => source,
        Err(e) => {
            eprintln!(
                "Server Version: unknown, no context to ask ({}); --client prints only the plugin's",
                one_line(&e.to_string())
            );
            return;
        }
    };
    let server = redact_userinfo(&source.server);
    let asked = async {
        let cluster = Cluster::connect(source.config.clone())?;
        cluster.server_version().await
    };
    let wait = global
        .request_timeout
        .unwrap_or(SERVER_WAIT)
        .min(SERVER_WAIT);
    match tokio::time::timeout(wait, asked).await {
        Ok(Ok(version)) => print_data(&format!(
            "Server Version: {} (context {}, {})\n",
            one_line(&version),
            one_line(&source.context_name),
            one_line(&server)
        )),
        Ok(Err(e)) => eprintln!(
            "Server Version: unknown, context {} did not say: {}",
            one_line(&source.context_name),
            one_line(&e.to_string())
        ),
        Err(_) => eprintln!(
            "Server Version: unknown, {server} (context {}) did not answer within {} s",
            one_line(&source.context_name),
            wait.as_secs()
        ),
    }
}
