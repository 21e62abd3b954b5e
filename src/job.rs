//! The old home of the wire types, the host, the redacting emitter and the
//! runner: re-exports only, so older paths keep working until they are
//! switched to `protocol`, `edge` and `runner`.

pub use crate::edge::{Host, RedactingEmitter};
pub use crate::protocol::{
    AccountInfo, Cursors, Event, Job, JobKind, LogLevel, ReconcileCursor, Settings, Tokens,
    PROTOCOL_VERSION,
};
pub use crate::runner::run;

/// The old name of [`RedactingEmitter`].
pub type Output<'a, H> = RedactingEmitter<'a, H>;
