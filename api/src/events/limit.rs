//! How many event streams one principal (a user or an API key) may hold open on this node.
//! Each stream holds a [`StreamSlot`]; the slot is given back when the stream is dropped,
//! which actix does when the client goes away or the stream ends. The count is per node: a
//! principal may hold the limit on each node behind the load balancer, which still bounds it
//! by the number of nodes, and a node that dies takes its count with it.
use dashmap::DashMap;
use std::sync::Arc;

/// Open streams per principal on this node.
#[derive(Debug)]
pub struct StreamSlots {
    limit: usize,
    open: Arc<DashMap<String, usize>>,
}

impl StreamSlots {
    /// Allows `limit` streams per principal.
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            open: Arc::default(),
        }
    }

    /// The most streams one principal may hold.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Takes a slot for `principal`, or `None` when it already holds the limit.
    pub fn acquire(&self, principal: String) -> Option<StreamSlot> {
        let mut count = self.open.entry(principal.clone()).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        drop(count);
        Some(StreamSlot {
            principal,
            open: Arc::clone(&self.open),
        })
    }

    /// Streams `principal` holds now.
    pub fn held(&self, principal: &str) -> usize {
        self.open.get(principal).map_or(0, |count| *count)
    }
}

/// One open stream; dropping it gives the slot back.
#[derive(Debug)]
pub struct StreamSlot {
    principal: String,
    open: Arc<DashMap<String, usize>>,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        // The entry goes when its last stream does, so the map holds only principals streaming now.
        self.open.remove_if_mut(&self.principal, |_, count| {
            *count = count.saturating_sub(1);
            *count == 0
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_principal_holds_at_most_the_limit_and_gets_slots_back() {
        let slots = StreamSlots::new(2);
        let first = slots.acquire("user:a".into()).unwrap();
        let _second = slots.acquire("user:a".into()).unwrap();
        assert!(slots.acquire("user:a".into()).is_none());
        assert!(slots.acquire("user:b".into()).is_some());
        drop(first);
        assert_eq!(slots.held("user:a"), 1);
        let _third = slots.acquire("user:a".into()).unwrap();
        assert_eq!(slots.held("user:a"), 2);
    }

    #[test]
    fn the_map_forgets_principals_without_streams() {
        let slots = StreamSlots::new(1);
        drop(slots.acquire("key:x".into()));
        assert!(slots.open.is_empty());
    }
}
