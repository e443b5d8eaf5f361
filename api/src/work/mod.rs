//! What every background worker shares: leases that fence a node which lost its hold, retries
//! with exponential back-off and jitter, dead-lettering after a bounded number of attempts, and
//! the per-kind metrics `/metrics` shows. Rows of a queue (bulk jobs, the outbox) carry their
//! own lease columns; work done for the whole service by one node at a time (a reader of the
//! event log, a sweep) holds a named lease ([`named`]). The workers themselves live with their
//! capability and take their rows through these rules.
pub mod lease;
pub mod metrics;
pub mod named;
pub mod queue;

pub use lease::{Backoff, Lease, last_error, lease_until};
pub use metrics::{WorkMetrics, WorkerKind};
pub use queue::{Claim, States};
