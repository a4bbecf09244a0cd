//! The sandbox's API tests, in one test binary: one link of the server, kube and rustls
//! instead of one per file. A module per area; `cargo test -p cicd-sandbox paging::` runs one.

mod common;

mod binary;
mod discovery;
mod faults;
mod namespaces;
mod paging;
mod protobuf;
mod real_server_parity;
mod reviews;
mod storage;
mod tokens;
mod validation;
