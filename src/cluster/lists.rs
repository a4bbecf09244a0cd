//! Read-only listing for `audit`: whole collections, page by page, counted, and with a
//! refusal (403) reported as a gap instead of an error.
//!
//! Secrets are only ever listed through [`Cluster::list_metadata_pages`], kube's metadata-only
//! list (`Accept: application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1`): the server
//! answers with names, labels and annotations, never with `data`.

use std::fmt::Debug;
use std::sync::atomic::{AtomicUsize, Ordering};

use kube::Resource;
use kube::api::{Api, ListParams, ObjectList};
use kube::core::PartialObjectMeta;
use serde::de::DeserializeOwned;

use super::Cluster;
use crate::error::Result;

/// Items per page: what kubectl asks for (`--chunk-size` 500).
pub const PAGE_SIZE: u32 = 500;

/// The answer to one listing: how many objects were read (each handed to the caller as its
/// page arrived), or the refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listed {
    Read(usize),
    /// The server refused (403) or does not serve the collection (404): its own words.
    Denied {
        code: u16,
        message: String,
    },
}

/// Counts the requests a run sends (each page is one).
#[derive(Debug, Default)]
pub struct RequestCounter(AtomicUsize);

impl RequestCounter {
    pub fn add(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

fn params(field_selector: Option<&str>, continue_token: Option<String>) -> ListParams {
    let mut lp = ListParams::default().limit(PAGE_SIZE);
    if let Some(selector) = field_selector {
        lp = lp.fields(selector);
    }
    lp.continue_token = continue_token;
    lp
}

fn denied(err: &kube::Error) -> Option<(u16, String)> {
    match err {
        kube::Error::Api(s) if s.code == 403 || s.code == 404 => Some((
            s.code,
            if s.message.is_empty() {
                format!("{} (HTTP {})", s.reason, s.code)
            } else {
                s.message.clone()
            },
        )),
        _ => None,
    }
}

/// Follows `continue` tokens until the list is complete.
pub(super) async fn all_pages<T, F, Fut>(fetch: F) -> Result<Vec<T>, kube::Error>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<ObjectList<T>, kube::Error>>,
    T: Clone,
{
    let mut items = Vec::new();
    each_page(fetch, |item| items.push(item)).await?;
    Ok(items)
}

/// Follows `continue` tokens until the list is complete, handing each object to `each` as its
/// page arrives (so a page's objects are gone before the next page is asked for); returns how
/// many there were.
pub(super) async fn each_page<T, F, Fut>(
    mut fetch: F,
    mut each: impl FnMut(T),
) -> Result<usize, kube::Error>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<ObjectList<T>, kube::Error>>,
    T: Clone,
{
    let mut count = 0;
    let mut token = None;
    loop {
        let list = fetch(token).await?;
        count += list.items.len();
        list.items.into_iter().for_each(&mut each);
        match list.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(next) => token = Some(next),
            None => return Ok(count),
        }
    }
}

impl Cluster {
    /// Lists a whole collection through `api` (namespaced or all), following `continue`
    /// tokens, each object handed to `each`. `what` names the collection in error messages
    /// (`rolebindings in team-a`).
    pub async fn list_pages<K>(
        &self,
        api: &Api<K>,
        what: &str,
        field_selector: Option<&str>,
        counter: &RequestCounter,
        each: impl FnMut(K),
    ) -> Result<Listed>
    where
        K: Resource + Clone + DeserializeOwned + Debug,
    {
        let pages = each_page(
            |token| {
                counter.add();
                let (api, lp) = (api.clone(), params(field_selector, token));
                async move { api.list(&lp).await }
            },
            each,
        )
        .await;
        self.listed(pages, what)
    }

    /// [`Cluster::list_pages`] with kube's metadata-only list: the server sends each object's
    /// metadata and nothing else (`PartialObjectMetadataList`). The only way `audit` lists
    /// Secrets.
    pub async fn list_metadata_pages<K>(
        &self,
        api: &Api<K>,
        what: &str,
        field_selector: Option<&str>,
        counter: &RequestCounter,
        each: impl FnMut(PartialObjectMeta<K>),
    ) -> Result<Listed>
    where
        K: Resource + Clone + DeserializeOwned + Debug,
    {
        let pages = each_page(
            |token| {
                counter.add();
                let (api, lp) = (api.clone(), params(field_selector, token));
                async move { api.list_metadata(&lp).await }
            },
            each,
        )
        .await;
        self.listed(pages, what)
    }

    /// A refusal (403) or an unserved collection (404) is a gap to report, not an error.
    fn listed(&self, pages: Result<usize, kube::Error>, what: &str) -> Result<Listed> {
        match pages {
            Ok(count) => Ok(Listed::Read(count)),
            Err(e) => match denied(&e) {
                Some((code, message)) => Ok(Listed::Denied { code, message }),
                None => Err(self.err(e, || format!("listing {what}"))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_ask_for_kubectls_chunk_size_and_carry_the_selector() {
        let lp = params(
            Some("type=kubernetes.io/service-account-token"),
            Some("abc".into()),
        );
        assert_eq!(lp.limit, Some(PAGE_SIZE));
        assert_eq!(
            lp.field_selector.as_deref(),
            Some("type=kubernetes.io/service-account-token")
        );
        assert_eq!(lp.continue_token.as_deref(), Some("abc"));
    }

    #[test]
    fn forbidden_and_not_found_are_gaps_other_errors_are_not() {
        let status = |code: u16, message: &str| {
            kube::Error::Api(
                kube::core::Status::failure(message, "Forbidden")
                    .with_code(code)
                    .boxed(),
            )
        };
        assert_eq!(denied(&status(403, "no")), Some((403, "no".to_string())));
        assert!(denied(&status(404, "gone")).is_some());
        assert!(denied(&status(401, "who")).is_none());
        assert!(denied(&status(500, "boom")).is_none());
    }
}
