//! Where attachment bytes live. The service only speaks to the [`Storage`] trait, so an
//! S3-compatible backend can replace the local directory without touching the rules.
use actix_web::web::Bytes;
use futures_util::future::BoxFuture;
use futures_util::stream::{BoxStream, StreamExt};
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// The content of a stored object, read in chunks.
pub type ByteStream = BoxStream<'static, std::io::Result<Bytes>>;

/// What a storage backend can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The key is not one this service issues (e.g. it tries to leave the storage root).
    #[error("invalid storage key `{0}`")]
    InvalidKey(String),
    /// No object under this key.
    #[error("no stored object under `{0}`")]
    NotFound(String),
    /// The backend failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// A store of immutable objects by key: `put` once, `get` many times, `delete` once.
pub trait Storage: Send + Sync {
    /// Stores `bytes` under `key`; a reader never sees a partly written object.
    fn put<'a>(&'a self, key: &'a str, bytes: Bytes) -> BoxFuture<'a, Result<(), StorageError>>;
    /// Streams the object under `key`.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<ByteStream, StorageError>>;
    /// Removes the object under `key`; a missing object is not an error.
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StorageError>>;
}

/// Checks a key: `/`-separated segments of ASCII letters, digits, `-` and `_`, so no key can
/// name a parent directory, an absolute path or a hidden temporary file.
///
/// # Errors
/// [`StorageError::InvalidKey`] otherwise.
pub fn check_key(key: &str) -> Result<(), StorageError> {
    let valid = !key.is_empty()
        && key.len() <= 255
        && key.split('/').all(|segment| {
            !segment.is_empty()
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if valid {
        Ok(())
    } else {
        Err(StorageError::InvalidKey(key.to_owned()))
    }
}

/// Objects as files under one directory.
#[derive(Clone, Debug)]
pub struct LocalStorage {
    root: PathBuf,
}

impl LocalStorage {
    /// A store rooted at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The directory holding the objects.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> Result<PathBuf, StorageError> {
        check_key(key)?;
        Ok(key
            .split('/')
            .fold(self.root.clone(), |path, s| path.join(s)))
    }

    async fn write(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        let path = self.path(key)?;
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        // Written beside the target and renamed into place, so the key never names half a file;
        // the dot keeps the temporary name outside the key syntax.
        let partial = path.with_file_name(format!(".partial-{}", Uuid::new_v4().simple()));
        let written = async {
            tokio::fs::write(&partial, &bytes).await?;
            tokio::fs::rename(&partial, &path).await
        }
        .await;
        if let Err(err) = written {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(err.into());
        }
        Ok(())
    }

    async fn read(&self, key: &str) -> Result<ByteStream, StorageError> {
        let path = self.path(key)?;
        match tokio::fs::File::open(&path).await {
            Ok(file) => Ok(tokio_util::io::ReaderStream::new(file).boxed()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                Err(StorageError::NotFound(key.to_owned()))
            }
            Err(err) => Err(err.into()),
        }
    }

    async fn remove(&self, key: &str) -> Result<(), StorageError> {
        let path = self.path(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(err.into()),
        }
    }
}

impl Storage for LocalStorage {
    fn put<'a>(&'a self, key: &'a str, bytes: Bytes) -> BoxFuture<'a, Result<(), StorageError>> {
        Box::pin(self.write(key, bytes))
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<ByteStream, StorageError>> {
        Box::pin(self.read(key))
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StorageError>> {
        Box::pin(self.remove(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_leave_the_root() {
        for bad in [
            "",
            "..",
            "../etc/passwd",
            "a/../../b",
            "/abs",
            "a//b",
            "a/.partial-1",
            "a\\b",
            "a/b/",
        ] {
            assert!(check_key(bad).is_err(), "{bad:?} must be refused");
        }
        assert!(check_key("0193a1b2-aaaa/0193a1b2-bbbb").is_ok());
    }
}
