//! The key-encryption key (KEK) that seals secrets in the database (the private signing keys,
//! channels' passwords and tokens), and the sealing itself (XChaCha20-Poly1305, a random 192-bit
//! nonce per value, a label of what the value is for as associated data, so a sealed value
//! cannot be moved to another row or field).
//!
//! The KEK comes from `auth.key_encryption_key` (base64 of 32 bytes). Without it, one is
//! generated on first start and kept in a file readable only by the service's user: beside the
//! SQLite file, or `./data/helpdesk.key` with PostgreSQL (every node of a multi-node deployment
//! must then be given the same key in the setting; a node holding another key refuses to start).
use crate::config::Settings;
use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use rand::Rng;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Marks the sealing scheme, so a later scheme can be told apart from this one.
const SCHEME: &str = "xc20p1:";
const NONCE_LEN: usize = 24;

/// The key that seals private signing keys at rest.
pub struct KeyEncryptionKey {
    key: SecretBox<[u8; 32]>,
}

impl KeyEncryptionKey {
    /// A KEK from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self {
            key: SecretBox::new(Box::new(bytes)),
        }
    }

    /// Parses base64 of exactly 32 bytes.
    ///
    /// # Errors
    /// Names what is wrong with the text, never the text itself.
    pub fn from_base64(text: &SecretString) -> anyhow::Result<Self> {
        let bytes = STANDARD
            .decode(text.expose_secret().trim())
            .ok()
            .context("`auth.key_encryption_key` is not base64")?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .ok()
            .context("`auth.key_encryption_key` must be base64 of exactly 32 bytes")?;
        Ok(Self::from_bytes(bytes))
    }

    /// The configured KEK, else the one kept in the key file (created on first use).
    ///
    /// # Errors
    /// Fails for a malformed setting or key file, or when the file cannot be written.
    pub fn resolve(settings: &Settings) -> anyhow::Result<Self> {
        if let Some(text) = &settings.auth.key_encryption_key {
            return Self::from_base64(text);
        }
        let path = settings.auth.resolved_key_file(&settings.database_url);
        Self::from_file(&path)
    }

    /// Reads the KEK kept in `path`, generating and writing it (mode 0600) when absent.
    ///
    /// # Errors
    /// Fails when the file is malformed or cannot be read or written.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_base64(&SecretString::from(text)).with_context(|| {
                format!(
                    "the key-encryption key file {} is malformed",
                    path.display()
                )
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Self::create_file(path),
            Err(err) => Err(err).with_context(|| format!("reading {}", path.display())),
        }
    }

    fn create_file(path: &Path) -> anyhow::Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let bytes: [u8; 32] = rand::rng().random();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(path) {
            Ok(mut file) => {
                file.write_all(format!("{}\n", STANDARD.encode(bytes)).as_bytes())
                    .and_then(|()| file.sync_all())
                    .with_context(|| format!("writing {}", path.display()))?;
                tracing::info!(path = %path.display(), "generated the key-encryption key that seals signing keys and channel secrets");
                Ok(Self::from_bytes(bytes))
            }
            // Another process started at the same moment and wrote it first: use theirs.
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Self::from_file(path),
            Err(err) => Err(err).with_context(|| format!("creating {}", path.display())),
        }
    }

    fn cipher(&self) -> anyhow::Result<XChaCha20Poly1305> {
        XChaCha20Poly1305::new_from_slice(self.key.expose_secret())
            .map_err(|_| anyhow::anyhow!("the key-encryption key has the wrong length"))
    }

    /// Seals `secret` for `label` (what it is: a signing key's id, a channel's secret).
    ///
    /// # Errors
    /// Fails only if the cipher does.
    pub fn seal(&self, label: &str, secret: &[u8]) -> anyhow::Result<String> {
        let nonce_bytes: [u8; NONCE_LEN] = rand::rng().random();
        let sealed = self
            .cipher()?
            .encrypt(
                &nonce_bytes.into(),
                Payload {
                    msg: secret,
                    aad: label.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("sealing the value for {label} failed"))?;
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{SCHEME}{}", STANDARD.encode(out)))
    }

    /// Opens what [`seal`](Self::seal) produced for `label`.
    ///
    /// # Errors
    /// Fails when the text is malformed or was sealed under another KEK or for another label.
    pub fn open(&self, label: &str, sealed: &str) -> anyhow::Result<SecretBox<[u8]>> {
        let Some(encoded) = sealed.strip_prefix(SCHEME) else {
            bail!("the value for {label} is not sealed with a known scheme");
        };
        let bytes = STANDARD
            .decode(encoded)
            .ok()
            .with_context(|| format!("the value for {label} is not base64"))?;
        if bytes.len() <= NONCE_LEN {
            bail!("the value for {label} is truncated");
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into()?;
        let opened = self
            .cipher()?
            .decrypt(
                &nonce.into(),
                Payload {
                    msg: sealed,
                    aad: label.as_bytes(),
                },
            )
            .map_err(|_| {
                anyhow::anyhow!(
                    "the value for {label} cannot be opened with this node's key-encryption key; \
                     give every node the same `auth.key_encryption_key` \
                     (HELPDESK_AUTH__KEY_ENCRYPTION_KEY) or the same key file"
                )
            })?;
        Ok(SecretBox::new(opened.into_boxed_slice()))
    }
}

/// Where the generated KEK is kept when none is configured: beside a SQLite database file
/// (`<file>.key`), else `./data/helpdesk.key`.
pub fn default_key_file(database_url: &str) -> PathBuf {
    let sqlite_file = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or_default())
        .filter(|path| !path.is_empty() && !path.contains(":memory:"));
    match sqlite_file {
        Some(file) => PathBuf::from(format!("{file}.key")),
        None => PathBuf::from("data/helpdesk.key"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_with_the_same_kek_and_kid() -> anyhow::Result<()> {
        let kek = KeyEncryptionKey::from_bytes([7; 32]);
        let sealed = kek.seal("kid-1", b"a private key")?;
        assert!(sealed.starts_with(SCHEME));
        assert!(!sealed.contains("a private key"));
        assert_eq!(
            kek.open("kid-1", &sealed)?.expose_secret(),
            b"a private key"
        );
        assert!(kek.open("kid-2", &sealed).is_err());
        assert!(
            KeyEncryptionKey::from_bytes([8; 32])
                .open("kid-1", &sealed)
                .is_err()
        );
        assert!(kek.open("kid-1", "plain text").is_err());
        Ok(())
    }

    #[test]
    fn the_key_file_is_created_once_and_private() -> anyhow::Result<()> {
        let dir = std::env::temp_dir().join(format!("kek-{}", uuid::Uuid::new_v4().simple()));
        let path = dir.join("test.db.key");
        let first = KeyEncryptionKey::from_file(&path)?;
        let again = KeyEncryptionKey::from_file(&path)?;
        assert_eq!(first.key.expose_secret(), again.key.expose_secret());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path)?.permissions().mode() & 0o777,
                0o600
            );
        }
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }

    #[test]
    fn the_default_file_sits_beside_the_sqlite_file() {
        assert_eq!(
            default_key_file("sqlite:///var/lib/helpdesk/helpdesk.db?mode=rwc"),
            PathBuf::from("/var/lib/helpdesk/helpdesk.db.key")
        );
        assert_eq!(
            default_key_file("sqlite://helpdesk.db?mode=rwc"),
            PathBuf::from("helpdesk.db.key")
        );
        assert_eq!(
            default_key_file("postgres://db/helpdesk"),
            PathBuf::from("data/helpdesk.key")
        );
    }
}
