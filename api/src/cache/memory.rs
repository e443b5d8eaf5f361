//! The single-node store: a concurrent map with per-entry expiry and a background sweep.
use super::WindowCount;
use dashmap::DashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Entry {
    value: Vec<u8>,
    expires_at: Instant,
}

/// In-process key/value store with expiry.
#[derive(Default)]
pub struct MemoryStore {
    entries: DashMap<String, Entry>,
}

impl MemoryStore {
    /// Creates the store and, inside a Tokio runtime, a task that drops expired entries.
    pub fn start() -> Arc<Self> {
        let store = Arc::new(Self::default());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let weak = Arc::downgrade(&store);
            runtime.spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(30));
                loop {
                    tick.tick().await;
                    let Some(store) = weak.upgrade() else { break };
                    let now = Instant::now();
                    store.entries.retain(|_, entry| entry.expires_at > now);
                }
            });
        }
        store
    }

    /// Counts a hit in a fixed window of `window` seconds.
    pub fn hit(&self, key: &str, window: u64) -> WindowCount {
        let now = Instant::now();
        let mut entry = self.entries.entry(key.to_owned()).or_insert_with(|| Entry {
            value: 0u64.to_le_bytes().to_vec(),
            expires_at: now + Duration::from_secs(window),
        });
        if entry.expires_at <= now {
            entry.value = 0u64.to_le_bytes().to_vec();
            entry.expires_at = now + Duration::from_secs(window);
        }
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(entry.value.get(..8).unwrap_or(&[0; 8]));
        let count = u64::from_le_bytes(bytes).saturating_add(1);
        entry.value = count.to_le_bytes().to_vec();
        let reset_in = entry
            .expires_at
            .saturating_duration_since(now)
            .as_secs()
            .max(1);
        WindowCount { count, reset_in }
    }

    /// Reads a live entry.
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        let entry = self.entries.get(key)?;
        (entry.expires_at > Instant::now()).then(|| entry.value.clone())
    }

    /// Writes an entry.
    pub fn set(&self, key: &str, value: &[u8], ttl: Duration) {
        self.entries.insert(
            key.to_owned(),
            Entry {
                value: value.to_vec(),
                expires_at: Instant::now() + ttl,
            },
        );
    }

    /// Writes an entry unless a live one exists; returns whether it was written.
    pub fn set_if_absent(&self, key: &str, value: &[u8], ttl: Duration) -> bool {
        let now = Instant::now();
        let mut written = false;
        self.entries
            .entry(key.to_owned())
            .and_modify(|entry| {
                if entry.expires_at <= now {
                    *entry = Entry {
                        value: value.to_vec(),
                        expires_at: now + ttl,
                    };
                    written = true;
                }
            })
            .or_insert_with(|| {
                written = true;
                Entry {
                    value: value.to_vec(),
                    expires_at: now + ttl,
                }
            });
        written
    }

    /// Removes an entry.
    pub fn delete(&self, key: &str) {
        self.entries.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_hits_and_honours_absence() {
        let store = MemoryStore::default();
        assert_eq!(store.hit("k", 60).count, 1);
        assert_eq!(store.hit("k", 60).count, 2);
        assert!(store.set_if_absent("a", b"1", Duration::from_secs(60)));
        assert!(!store.set_if_absent("a", b"2", Duration::from_secs(60)));
        assert_eq!(store.get("a"), Some(b"1".to_vec()));
        store.set("b", b"x", Duration::from_millis(0));
        assert_eq!(store.get("b"), None);
    }
}
