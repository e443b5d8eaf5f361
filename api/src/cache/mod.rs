//! Shared short-lived state: rate-limit counters, the token deny-list, revocation markers and
//! idempotency records. Redis when `REDIS_URL` is set (shared by every API node), otherwise an
//! in-process map for a single node.
mod memory;
pub mod per_tenant;

use anyhow::Context;
use redis::aio::ConnectionManager;
use std::sync::Arc;
use std::time::Duration;

pub use memory::MemoryStore;

/// The state of one fixed rate-limit window after counting a hit.
#[derive(Clone, Copy, Debug)]
pub struct WindowCount {
    /// Hits in the current window, this one included.
    pub count: u64,
    /// Seconds until the window resets.
    pub reset_in: u64,
}

/// Where shared short-lived state lives.
#[derive(Clone)]
pub enum Cache {
    /// One node, in-process.
    Memory(Arc<MemoryStore>),
    /// Any number of nodes sharing one Redis.
    Redis {
        /// Multiplexed, auto-reconnecting connection.
        conn: ConnectionManager,
        /// Key prefix of this deployment.
        prefix: Arc<str>,
    },
}

const HIT_SCRIPT: &str = r"
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
";

impl Cache {
    /// Connects to Redis when a URL is given, else keeps state in process.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached.
    pub async fn connect(redis_url: Option<&str>, prefix: &str) -> anyhow::Result<Self> {
        match redis_url {
            None => Ok(Cache::Memory(MemoryStore::start())),
            Some(url) => {
                let client = redis::Client::open(url).context("parsing the Redis URL")?;
                let conn = client
                    .get_connection_manager()
                    .await
                    .context("connecting to Redis")?;
                Ok(Cache::Redis {
                    conn,
                    prefix: Arc::from(prefix),
                })
            }
        }
    }

    fn key(prefix: &str, key: &str) -> String {
        format!("{prefix}{key}")
    }

    /// Counts a hit in the fixed window `key` of `window` seconds.
    ///
    /// # Errors
    /// Fails when Redis does.
    pub async fn hit(&self, key: &str, window: u64) -> anyhow::Result<WindowCount> {
        match self {
            Cache::Memory(store) => Ok(store.hit(key, window)),
            Cache::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let (count, ttl): (u64, i64) = redis::Script::new(HIT_SCRIPT)
                    .key(Self::key(prefix, key))
                    .arg(window)
                    .invoke_async(&mut conn)
                    .await?;
                Ok(WindowCount {
                    count,
                    reset_in: u64::try_from(ttl.max(1)).unwrap_or(window),
                })
            }
        }
    }

    /// Reads several keys in one round trip.
    ///
    /// # Errors
    /// Fails when Redis does.
    pub async fn get_many(&self, keys: &[&str]) -> anyhow::Result<Vec<Option<Vec<u8>>>> {
        match self {
            Cache::Memory(store) => Ok(keys.iter().map(|key| store.get(key)).collect()),
            Cache::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let full: Vec<String> = keys.iter().map(|key| Self::key(prefix, key)).collect();
                let values: Vec<Option<Vec<u8>>> =
                    redis::cmd("MGET").arg(full).query_async(&mut conn).await?;
                Ok(values)
            }
        }
    }

    /// Reads one key.
    ///
    /// # Errors
    /// Fails when Redis does.
    pub async fn get(&self, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(self.get_many(&[key]).await?.into_iter().next().flatten())
    }

    /// Writes a key that expires after `ttl`.
    ///
    /// # Errors
    /// Fails when Redis does.
    pub async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> anyhow::Result<()> {
        match self {
            Cache::Memory(store) => {
                store.set(key, value, ttl);
                Ok(())
            }
            Cache::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let () = redis::cmd("SET")
                    .arg(Self::key(prefix, key))
                    .arg(value)
                    .arg("PX")
                    .arg(ttl_millis(ttl))
                    .query_async(&mut conn)
                    .await?;
                Ok(())
            }
        }
    }

    /// Writes a key only if it is absent; returns whether it was written.
    ///
    /// # Errors
    /// Fails when Redis does.
    pub async fn set_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> anyhow::Result<bool> {
        match self {
            Cache::Memory(store) => Ok(store.set_if_absent(key, value, ttl)),
            Cache::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let written: Option<String> = redis::cmd("SET")
                    .arg(Self::key(prefix, key))
                    .arg(value)
                    .arg("NX")
                    .arg("PX")
                    .arg(ttl_millis(ttl))
                    .query_async(&mut conn)
                    .await?;
                Ok(written.is_some())
            }
        }
    }

    /// Removes a key.
    ///
    /// # Errors
    /// Fails when Redis does.
    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match self {
            Cache::Memory(store) => {
                store.delete(key);
                Ok(())
            }
            Cache::Redis { conn, prefix } => {
                let mut conn = conn.clone();
                let _: i64 = redis::cmd("DEL")
                    .arg(Self::key(prefix, key))
                    .query_async(&mut conn)
                    .await?;
                Ok(())
            }
        }
    }

    /// Checks the store answers.
    ///
    /// # Errors
    /// Fails when Redis does not answer.
    pub async fn ping(&self) -> anyhow::Result<()> {
        match self {
            Cache::Memory(_) => Ok(()),
            Cache::Redis { conn, .. } => {
                let mut conn = conn.clone();
                let _: String = redis::cmd("PING").query_async(&mut conn).await?;
                Ok(())
            }
        }
    }

    /// Which backend is in use, for logs and `/ready`.
    pub fn backend(&self) -> &'static str {
        match self {
            Cache::Memory(_) => "memory",
            Cache::Redis { .. } => "redis",
        }
    }
}

fn ttl_millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}
