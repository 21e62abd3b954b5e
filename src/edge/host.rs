//! The host: where events go, who saves tokens, where jitter comes from.

use crate::protocol::Event;

/// What the core needs from its host besides HTTP and time.
#[allow(async_fn_in_trait)]
pub trait Host {
    /// Hands one event to the host (written as one line by the sidecar).
    fn emit(&self, event: &Event);
    /// Resolves once the host has persisted the token pair whose refresh
    /// token is `refresh_token` (PHP writes `token_saved`).
    async fn await_token_saved(&self, refresh_token: &str) -> Result<(), String>;
    /// Seed for retry jitter.
    fn seed(&self) -> u64;
}
