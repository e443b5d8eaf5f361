//! Shared short-lived state: rate-limit counters and idempotency records. Redis when
//! `REDIS_URL` is set (shared by every API node), otherwise an in-process map for a single
//! node. Every Redis call has a deadline: with Redis down a call fails within it (as
//! [`DependencyDown`], which answers 503) instead of hanging, and rate limits are counted per
//! node until Redis is back.
mod memory;
pub mod per_tenant;

use crate::error::DependencyDown;
use anyhow::Context;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
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
    Redis(Arc<RedisStore>),
}

/// Redis with a deadline on every call, and what this node does while Redis is away.
pub struct RedisStore {
    /// Multiplexed, auto-reconnecting connection.
    conn: ConnectionManager,
    /// Key prefix of this deployment.
    prefix: String,
    /// The longest one call may take before it counts as failed.
    deadline: Duration,
    /// Rate-limit windows counted on this node while Redis cannot be reached.
    fallback: Arc<MemoryStore>,
    /// Whether the last call failed, so an outage is logged once, not once per request.
    down: AtomicBool,
}

const HIT_SCRIPT: &str = r"
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
";

/// A Redis connection that gives up quickly: one short connection attempt (and one retry) per
/// reconnection and a response deadline, so a call never waits out a long back-off while
/// Redis is down. Nothing is connected until the first call, so a node starts without Redis.
///
/// # Errors
/// Fails when the URL is malformed.
pub fn redis_connection(url: &str, deadline: Duration) -> anyhow::Result<ConnectionManager> {
    let client = redis::Client::open(url).context("parsing the Redis URL")?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(deadline))
        .set_response_timeout(Some(deadline))
        .set_number_of_retries(1)
        .set_min_delay(Duration::from_millis(20))
        .set_max_delay(Duration::from_millis(100));
    ConnectionManager::new_lazy_with_config(client, config).context("configuring Redis")
}

impl Cache {
    /// Uses Redis when a URL is given (connected on first use, so Redis may still be down),
    /// else keeps state in process. `deadline` bounds every Redis call.
    ///
    /// # Errors
    /// Fails when the Redis URL is malformed.
    pub fn connect(
        redis_url: Option<&str>,
        prefix: &str,
        deadline: Duration,
    ) -> anyhow::Result<Self> {
        match redis_url {
            None => Ok(Cache::Memory(MemoryStore::start())),
            Some(url) => Ok(Cache::Redis(Arc::new(RedisStore {
                conn: redis_connection(url, deadline)?,
                prefix: prefix.to_owned(),
                deadline,
                fallback: MemoryStore::start(),
                down: AtomicBool::new(false),
            }))),
        }
    }

    /// Counts a hit in the fixed window `key` of `window` seconds. While Redis cannot be
    /// reached the window is counted on this node alone: every node then allows the limit,
    /// which bounds the total by the number of nodes instead of refusing every request.
    ///
    /// # Errors
    /// Never fails today; kept fallible for callers.
    pub async fn hit(&self, key: &str, window: u64) -> anyhow::Result<WindowCount> {
        match self {
            Cache::Memory(store) => Ok(store.hit(key, window)),
            Cache::Redis(redis) => {
                let full = redis.key(key);
                let counted = redis
                    .call(|mut conn| async move {
                        let (count, ttl): (u64, i64) = redis::Script::new(HIT_SCRIPT)
                            .key(full)
                            .arg(window)
                            .invoke_async(&mut conn)
                            .await?;
                        Ok((count, ttl))
                    })
                    .await;
                match counted {
                    Ok((count, ttl)) => Ok(WindowCount {
                        count,
                        reset_in: u64::try_from(ttl.max(1)).unwrap_or(window),
                    }),
                    Err(_) => Ok(redis.fallback.hit(key, window)),
                }
            }
        }
    }

    /// Reads several keys in one round trip.
    ///
    /// # Errors
    /// [`DependencyDown`] when Redis does not answer in time.
    pub async fn get_many(&self, keys: &[&str]) -> anyhow::Result<Vec<Option<Vec<u8>>>> {
        match self {
            Cache::Memory(store) => Ok(keys.iter().map(|key| store.get(key)).collect()),
            Cache::Redis(redis) => {
                let full: Vec<String> = keys.iter().map(|key| redis.key(key)).collect();
                redis
                    .call(|mut conn| async move {
                        redis::cmd("MGET").arg(full).query_async(&mut conn).await
                    })
                    .await
            }
        }
    }

    /// Reads one key.
    ///
    /// # Errors
    /// [`DependencyDown`] when Redis does not answer in time.
    pub async fn get(&self, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(self.get_many(&[key]).await?.into_iter().next().flatten())
    }

    /// Writes a key that expires after `ttl`.
    ///
    /// # Errors
    /// [`DependencyDown`] when Redis does not answer in time.
    pub async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> anyhow::Result<()> {
        match self {
            Cache::Memory(store) => {
                store.set(key, value, ttl);
                Ok(())
            }
            Cache::Redis(redis) => {
                let full = redis.key(key);
                let value = value.to_vec();
                redis
                    .call(|mut conn| async move {
                        redis::cmd("SET")
                            .arg(full)
                            .arg(value)
                            .arg("PX")
                            .arg(ttl_millis(ttl))
                            .query_async::<()>(&mut conn)
                            .await
                    })
                    .await
            }
        }
    }

    /// Writes a key only if it is absent; returns whether it was written.
    ///
    /// # Errors
    /// [`DependencyDown`] when Redis does not answer in time.
    pub async fn set_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> anyhow::Result<bool> {
        match self {
            Cache::Memory(store) => Ok(store.set_if_absent(key, value, ttl)),
            Cache::Redis(redis) => {
                let full = redis.key(key);
                let value = value.to_vec();
                let written: Option<String> = redis
                    .call(|mut conn| async move {
                        redis::cmd("SET")
                            .arg(full)
                            .arg(value)
                            .arg("NX")
                            .arg("PX")
                            .arg(ttl_millis(ttl))
                            .query_async(&mut conn)
                            .await
                    })
                    .await?;
                Ok(written.is_some())
            }
        }
    }

    /// Removes a key.
    ///
    /// # Errors
    /// [`DependencyDown`] when Redis does not answer in time.
    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match self {
            Cache::Memory(store) => {
                store.delete(key);
                Ok(())
            }
            Cache::Redis(redis) => {
                let full = redis.key(key);
                redis
                    .call(|mut conn| async move {
                        redis::cmd("DEL")
                            .arg(full)
                            .query_async::<i64>(&mut conn)
                            .await
                    })
                    .await?;
                Ok(())
            }
        }
    }

    /// Checks the store answers within its deadline.
    ///
    /// # Errors
    /// [`DependencyDown`] when Redis does not answer in time.
    pub async fn ping(&self) -> anyhow::Result<()> {
        match self {
            Cache::Memory(_) => Ok(()),
            Cache::Redis(redis) => {
                redis
                    .call(|mut conn| async move {
                        redis::cmd("PING").query_async::<String>(&mut conn).await
                    })
                    .await?;
                Ok(())
            }
        }
    }

    /// Which backend is in use, for logs and `/ready`.
    pub fn backend(&self) -> &'static str {
        match self {
            Cache::Memory(_) => "memory",
            Cache::Redis(_) => "redis",
        }
    }
}

impl RedisStore {
    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Runs one Redis call within the deadline. A failure is logged when an outage starts
    /// (not for every request during it) and returned as [`DependencyDown`].
    async fn call<T, F, Fut>(&self, call: F) -> anyhow::Result<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let result = match tokio::time::timeout(self.deadline, call(self.conn.clone())).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(err.to_string()),
            Err(_) => Err(format!("no answer within {} ms", self.deadline.as_millis())),
        };
        match result {
            Ok(value) => {
                if self.down.swap(false, Ordering::Relaxed) {
                    tracing::info!("Redis answers again");
                }
                Ok(value)
            }
            Err(cause) => {
                if !self.down.swap(true, Ordering::Relaxed) {
                    tracing::warn!(error = %cause, "Redis unreachable");
                }
                Err(DependencyDown("redis").into())
            }
        }
    }
}

fn ttl_millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}
