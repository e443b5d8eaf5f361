//! Metrics of the background workers, by kind: rows queued, in flight, retried and dead, and
//! the lag of the event log's readers. The label values are the closed set of [`WorkerKind`],
//! so nothing a caller sends adds a series.
use prometheus::{Encoder, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};

/// The kinds of background work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkerKind {
    /// Bulk jobs (mass replies and bulk updates).
    Jobs,
    /// Delivery of the outbox.
    Outbox,
    /// The relay of the ticket event log to this node's streams.
    EventRelay,
    /// The reader of the event log that carries a linked ticket's replies and status back to
    /// its origin.
    FlowBack,
}

impl WorkerKind {
    /// Every kind: their series exist from the start, so `/metrics` keeps the same lines.
    pub const ALL: [Self; 4] = [Self::Jobs, Self::Outbox, Self::EventRelay, Self::FlowBack];

    /// Whether the kind reads the event log (and so has a lag).
    pub fn reads_the_log(self) -> bool {
        matches!(self, Self::EventRelay | Self::FlowBack)
    }

    /// The `kind` label.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkerKind::Jobs => "jobs",
            WorkerKind::Outbox => "outbox",
            WorkerKind::EventRelay => "event_relay",
            WorkerKind::FlowBack => "flow_back",
        }
    }
}

/// The workers' metrics of one node.
pub struct WorkMetrics {
    registry: Registry,
    queued: IntGaugeVec,
    in_flight: IntGaugeVec,
    dead: IntGaugeVec,
    retried: IntCounterVec,
    lag: IntGaugeVec,
}

impl WorkMetrics {
    /// Creates the families `helpdesk_work_queued`, `helpdesk_work_in_flight`,
    /// `helpdesk_work_dead`, `helpdesk_work_retried_total` and
    /// `helpdesk_event_consumer_lag_entries`.
    ///
    /// # Errors
    /// Fails only when the metric definitions are invalid.
    pub fn new() -> prometheus::Result<Self> {
        let registry = Registry::new();
        let gauge = |name: &str, help: &str| {
            IntGaugeVec::new(Opts::new(name, help).namespace("helpdesk"), &["kind"])
        };
        let queued = gauge("work_queued", "Rows waiting for a worker (due or not)")?;
        let in_flight = gauge("work_in_flight", "Rows held under a live lease")?;
        let dead = gauge("work_dead", "Rows dead-lettered after their last attempt")?;
        let retried = IntCounterVec::new(
            Opts::new(
                "work_retried_total",
                "Attempts that failed and were scheduled again",
            )
            .namespace("helpdesk"),
            &["kind"],
        )?;
        let lag = IntGaugeVec::new(
            Opts::new(
                "event_consumer_lag_entries",
                "Entries of the ticket event log a reader has not handled yet",
            )
            .namespace("helpdesk"),
            &["consumer"],
        )?;
        for family in [&queued, &in_flight, &dead, &lag] {
            registry.register(Box::new(family.clone()))?;
        }
        registry.register(Box::new(retried.clone()))?;
        for kind in WorkerKind::ALL {
            let label = [kind.as_str()];
            if kind.reads_the_log() {
                lag.with_label_values(&label).set(0);
            }
            for family in [&queued, &in_flight, &dead] {
                family.with_label_values(&label).set(0);
            }
            retried.with_label_values(&label).inc_by(0);
        }
        Ok(Self {
            registry,
            queued,
            in_flight,
            dead,
            retried,
            lag,
        })
    }

    /// Sets the counts of a kind's rows by state.
    pub fn set_counts(&self, kind: WorkerKind, queued: i64, in_flight: i64, dead: i64) {
        self.queued.with_label_values(&[kind.as_str()]).set(queued);
        self.in_flight
            .with_label_values(&[kind.as_str()])
            .set(in_flight);
        self.dead.with_label_values(&[kind.as_str()]).set(dead);
    }

    /// Counts an item a reader of the event log gave up on (the gauge only grows: such items
    /// are not retried).
    pub fn dead(&self, kind: WorkerKind) {
        self.dead.with_label_values(&[kind.as_str()]).inc();
    }

    /// Counts a failed attempt that will be retried.
    pub fn retried(&self, kind: WorkerKind) {
        self.retried.with_label_values(&[kind.as_str()]).inc();
    }

    /// Sets how far a reader of the event log is behind its head.
    pub fn set_lag(&self, consumer: WorkerKind, entries: i64) {
        self.lag
            .with_label_values(&[consumer.as_str()])
            .set(entries.max(0));
    }

    /// The metrics in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        if let Err(err) = TextEncoder::new().encode(&self.registry.gather(), &mut buffer) {
            tracing::error!(error = %err, "could not encode worker metrics");
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}
