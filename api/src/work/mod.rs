//! What every background worker shares: leases that fence a node which lost its hold, retries
//! with exponential back-off and jitter, dead-lettering after a bounded number of attempts, and
//! the per-kind metrics `/metrics` shows. The workers themselves (the bulk job runner, the
//! outbox's delivery) live with their capability and take their rows through these rules.
pub mod lease;
pub mod metrics;
pub mod queue;

pub use lease::{Backoff, Lease, last_error, lease_until};
pub use metrics::{WorkMetrics, WorkerKind};
pub use queue::{Claim, States};
