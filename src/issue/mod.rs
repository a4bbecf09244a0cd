//! Issuing a pipeline's credentials, the steps `init` and `rotate` share: decide how the
//! kubeconfig verifies TLS ([`tls`]), get a token ([`token`]), prove it is the identity and
//! holds what was intended and nothing risky ([`verify`]), write the kubeconfig and say what to
//! do next ([`write`]).

pub mod tls;
pub mod token;
pub mod verify;
pub mod write;
