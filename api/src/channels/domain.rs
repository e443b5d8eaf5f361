//! What a channel is: its kinds, the plain settings of each kind and the secrets each kind
//! keeps, with the rules they are checked by.
use crate::error::ApiError;
use crate::http::api_enum::api_enum;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

api_enum!(
    /// How tickets arrive through a channel and how its replies leave.
    ChannelKind {
        /// An e-mail address: mail posted by a relay or fetched over IMAP, replies over SMTP.
        Email => "email",
        /// A WhatsApp Business number (Cloud API).
        Whatsapp => "whatsapp",
        /// A Telegram bot.
        Telegram => "telegram",
        /// The public web form.
        Web => "web",
        /// Integrations and bots that hand over through the API.
        Api => "api",
    }
);

impl ChannelKind {
    /// The secrets a channel of this kind may keep.
    pub fn secrets(self) -> &'static [SecretName] {
        match self {
            ChannelKind::Email => &[
                SecretName::InboundSecret,
                SecretName::SmtpPassword,
                SecretName::ImapPassword,
            ],
            ChannelKind::Whatsapp => &[
                SecretName::AccessToken,
                SecretName::AppSecret,
                SecretName::VerifyToken,
            ],
            ChannelKind::Telegram => &[SecretName::BotToken, SecretName::WebhookSecret],
            ChannelKind::Web => &[SecretName::CaptchaSecret],
            ChannelKind::Api => &[],
        }
    }
}

api_enum!(
    /// A secret a channel keeps: written through the API, never read back.
    SecretName {
        /// Authenticates a relay posting raw mail to the channel's inbound endpoint.
        InboundSecret => "inbound_secret",
        /// The SMTP account's password.
        SmtpPassword => "smtp_password",
        /// The IMAP account's password.
        ImapPassword => "imap_password",
        /// The WhatsApp Cloud API access token.
        AccessToken => "access_token",
        /// The Meta app secret that signs webhook deliveries (`X-Hub-Signature-256`).
        AppSecret => "app_secret",
        /// The token Meta echoes when it verifies the webhook.
        VerifyToken => "verify_token",
        /// The Telegram bot token.
        BotToken => "bot_token",
        /// The token Telegram sends in `X-Telegram-Bot-Api-Secret-Token`.
        WebhookSecret => "webhook_secret",
        /// The web form's captcha verification secret.
        CaptchaSecret => "captcha_secret",
    }
);

api_enum!(
    /// How a mail connection is protected.
    #[derive(Default)]
    MailSecurity {
        /// TLS from the first byte (SMTP 465, IMAP 993).
        #[default]
        Tls => "tls",
        /// Plain first, then upgraded with STARTTLS (SMTP 587, IMAP 143); refused if the
        /// server does not offer it.
        Starttls => "starttls",
        /// No encryption: only for a relay on the same host or a test server.
        None => "none",
    }
);

api_enum!(
    /// How a Telegram bot's updates reach the service.
    #[derive(Default)]
    TelegramMode {
        /// One node asks Telegram for updates (`getUpdates`): no public address needed.
        #[default]
        Polling => "polling",
        /// Telegram posts updates to the channel's webhook.
        Webhook => "webhook",
    }
);

/// A mail server the channel connects to.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MailServer {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// `tls` when absent.
    #[serde(default)]
    pub security: MailSecurity,
    /// Account name; the password is the channel's `smtp_password` or `imap_password` secret.
    pub username: Option<String>,
}

/// The settings of an e-mail channel.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    /// The address mail is sent to and replies come from; one channel per address.
    pub address: String,
    /// The sender's display name; the tenant's brand name when absent.
    pub from_name: Option<String>,
    /// Where replies leave; the service's outgoing mail setting when absent.
    pub smtp: Option<MailServer>,
    /// A mailbox polled for new mail; mail arrives only through the relay endpoint when
    /// absent.
    pub imap: Option<MailServer>,
    /// The IMAP folder polled; `INBOX` when absent.
    pub imap_folder: Option<String>,
}

/// The settings of a WhatsApp Business channel.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct WhatsappSettings {
    /// The Cloud API's phone number id (digits), which webhook deliveries name.
    pub phone_number_id: String,
    /// The WhatsApp Business account id (digits).
    pub business_account_id: Option<String>,
    /// The number as people see it, for display.
    pub display_phone: Option<String>,
}

/// The settings of a Telegram channel.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TelegramSettings {
    /// The bot's user name (5-32 letters, digits or underscores, ending in `bot`).
    pub bot_username: String,
    /// `polling` when absent.
    #[serde(default)]
    pub mode: TelegramMode,
}

/// The settings of a web form channel.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct WebSettings {
    /// Origins (`https://host[:port]`) whose pages may post the form; any when empty.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Ask the sender to confirm their e-mail address before the ticket opens.
    #[serde(default)]
    pub confirm_email: bool,
}

/// A channel's settings, one of the kinds'.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Settings {
    /// E-mail.
    Email(EmailSettings),
    /// WhatsApp.
    Whatsapp(WhatsappSettings),
    /// Telegram.
    Telegram(TelegramSettings),
    /// Web form.
    Web(WebSettings),
    /// API: nothing to set.
    Api,
}

fn trimmed(text: &str) -> String {
    text.trim().to_owned()
}

fn short(field: &str, value: &str, most: usize) -> Result<(), ApiError> {
    if value.is_empty() || value.chars().count() > most {
        return Err(ApiError::invalid(
            field,
            format!("must be 1-{most} characters"),
        ));
    }
    Ok(())
}

fn digits(field: &str, value: &str) -> Result<(), ApiError> {
    if value.is_empty() || value.len() > 32 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::invalid(field, "must be 1-32 digits"));
    }
    Ok(())
}

fn check_server(field: &str, mut server: MailServer) -> Result<MailServer, ApiError> {
    server.host = trimmed(&server.host).to_lowercase();
    let host_ok = !server.host.is_empty()
        && server.host.len() <= 253
        && server
            .host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    if !host_ok {
        return Err(ApiError::invalid(
            format!("{field}.host"),
            "a host name or IP address",
        ));
    }
    if server.port == 0 {
        return Err(ApiError::invalid(format!("{field}.port"), "1-65535"));
    }
    server.username = server
        .username
        .map(|u| trimmed(&u))
        .filter(|u| !u.is_empty());
    if let Some(username) = &server.username {
        short(&format!("{field}.username"), username, 320)?;
    }
    Ok(server)
}

fn check_origin(origin: &str) -> Result<String, ApiError> {
    let parsed = url::Url::parse(origin.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .filter(|u| u.path() == "/" && u.query().is_none() && u.fragment().is_none());
    match parsed {
        Some(url) => Ok(url.origin().ascii_serialization()),
        None => Err(ApiError::invalid(
            "web.allowed_origins",
            "each origin is scheme and host, like https://exams.example.edu",
        )),
    }
}

impl Settings {
    /// The kind these settings belong to.
    pub fn kind(&self) -> ChannelKind {
        match self {
            Settings::Email(_) => ChannelKind::Email,
            Settings::Whatsapp(_) => ChannelKind::Whatsapp,
            Settings::Telegram(_) => ChannelKind::Telegram,
            Settings::Web(_) => ChannelKind::Web,
            Settings::Api => ChannelKind::Api,
        }
    }

    /// The settings normalised (trimmed, lower-cased where case means nothing), or a 422
    /// naming the first field that is wrong.
    ///
    /// # Errors
    /// 422 for a malformed field.
    pub fn checked(self) -> Result<Self, ApiError> {
        Ok(match self {
            Settings::Email(mut email) => {
                email.address = crate::users::service::normalise_email(&email.address)
                    .map_err(|_| ApiError::invalid("email.address", "an e-mail address"))?;
                email.from_name = email
                    .from_name
                    .map(|n| trimmed(&n))
                    .filter(|n| !n.is_empty());
                if let Some(name) = &email.from_name {
                    short("email.from_name", name, 200)?;
                    if name.chars().any(char::is_control) {
                        return Err(ApiError::invalid(
                            "email.from_name",
                            "must not hold control characters",
                        ));
                    }
                }
                email.smtp = email
                    .smtp
                    .map(|s| check_server("email.smtp", s))
                    .transpose()?;
                email.imap = email
                    .imap
                    .map(|s| check_server("email.imap", s))
                    .transpose()?;
                email.imap_folder = email
                    .imap_folder
                    .map(|f| trimmed(&f))
                    .filter(|f| !f.is_empty());
                if let Some(folder) = &email.imap_folder {
                    short("email.imap_folder", folder, 200)?;
                }
                Settings::Email(email)
            }
            Settings::Whatsapp(mut whatsapp) => {
                whatsapp.phone_number_id = trimmed(&whatsapp.phone_number_id);
                digits("whatsapp.phone_number_id", &whatsapp.phone_number_id)?;
                whatsapp.business_account_id = whatsapp
                    .business_account_id
                    .map(|id| trimmed(&id))
                    .filter(|id| !id.is_empty());
                if let Some(id) = &whatsapp.business_account_id {
                    digits("whatsapp.business_account_id", id)?;
                }
                whatsapp.display_phone = whatsapp
                    .display_phone
                    .map(|p| trimmed(&p))
                    .filter(|p| !p.is_empty());
                if let Some(phone) = &whatsapp.display_phone {
                    short("whatsapp.display_phone", phone, 32)?;
                }
                Settings::Whatsapp(whatsapp)
            }
            Settings::Telegram(mut telegram) => {
                telegram.bot_username = trimmed(&telegram.bot_username)
                    .trim_start_matches('@')
                    .to_owned();
                let name = &telegram.bot_username;
                let well_formed = (5..=32).contains(&name.len())
                    && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                    && name.to_ascii_lowercase().ends_with("bot");
                if !well_formed {
                    return Err(ApiError::invalid(
                        "telegram.bot_username",
                        "5-32 letters, digits or underscores, ending in `bot`",
                    ));
                }
                Settings::Telegram(telegram)
            }
            Settings::Web(mut web) => {
                if web.allowed_origins.len() > 20 {
                    return Err(ApiError::invalid(
                        "web.allowed_origins",
                        "at most 20 origins",
                    ));
                }
                let mut origins: Vec<String> = Vec::new();
                for origin in &web.allowed_origins {
                    let origin = check_origin(origin)?;
                    if !origins.contains(&origin) {
                        origins.push(origin);
                    }
                }
                web.allowed_origins = origins;
                Settings::Web(web)
            }
            Settings::Api => Settings::Api,
        })
    }

    /// What inbound traffic finds the channel by, if anything.
    pub fn address(&self) -> Option<String> {
        match self {
            Settings::Email(email) => Some(email.address.clone()),
            Settings::Whatsapp(whatsapp) => Some(whatsapp.phone_number_id.clone()),
            Settings::Telegram(telegram) => Some(telegram.bot_username.to_ascii_lowercase()),
            Settings::Web(_) | Settings::Api => None,
        }
    }

    /// The stored JSON.
    pub fn to_json(&self) -> String {
        let value = match self {
            Settings::Email(email) => serde_json::to_value(email),
            Settings::Whatsapp(whatsapp) => serde_json::to_value(whatsapp),
            Settings::Telegram(telegram) => serde_json::to_value(telegram),
            Settings::Web(web) => serde_json::to_value(web),
            Settings::Api => Ok(serde_json::json!({})),
        };
        value.unwrap_or_default().to_string()
    }

    /// The settings stored for a channel of `kind`.
    ///
    /// # Errors
    /// Fails when the stored JSON does not read as the kind's settings (a corrupted row).
    pub fn from_json(kind: ChannelKind, stored: &str) -> anyhow::Result<Self> {
        Ok(match kind {
            ChannelKind::Email => Settings::Email(serde_json::from_str(stored)?),
            ChannelKind::Whatsapp => Settings::Whatsapp(serde_json::from_str(stored)?),
            ChannelKind::Telegram => Settings::Telegram(serde_json::from_str(stored)?),
            ChannelKind::Web => Settings::Web(serde_json::from_str(stored)?),
            ChannelKind::Api => Settings::Api,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_its_stored_name() {
        for kind in ChannelKind::ALL {
            assert_eq!(ChannelKind::from_stored(kind.as_str()), Some(*kind));
        }
        for name in SecretName::ALL {
            assert_eq!(SecretName::from_stored(name.as_str()), Some(*name));
        }
        assert_eq!(ChannelKind::from_stored("fax"), None);
    }

    #[test]
    fn each_secret_belongs_to_one_kind() {
        for name in SecretName::ALL {
            let owners = ChannelKind::ALL
                .iter()
                .filter(|kind| kind.secrets().contains(name))
                .count();
            assert_eq!(owners, 1, "{name:?}");
        }
    }

    #[test]
    fn settings_are_normalised_and_checked() -> anyhow::Result<()> {
        let email = Settings::Email(EmailSettings {
            address: " Support@Uni.Example ".into(),
            from_name: Some("  ".into()),
            smtp: Some(MailServer {
                host: "SMTP.Uni.Example".into(),
                port: 587,
                security: MailSecurity::Starttls,
                username: Some(" ".into()),
            }),
            imap: None,
            imap_folder: None,
        })
        .checked()
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        assert_eq!(email.address().as_deref(), Some("support@uni.example"));
        let Settings::Email(checked) = &email else {
            anyhow::bail!("not e-mail");
        };
        assert_eq!(checked.from_name, None);
        assert_eq!(
            checked.smtp.as_ref().map(|s| s.host.as_str()),
            Some("smtp.uni.example")
        );
        assert_eq!(
            Settings::from_json(ChannelKind::Email, &email.to_json())?,
            email
        );

        let bot = Settings::Telegram(TelegramSettings {
            bot_username: "@Proctor_Help_Bot".into(),
            mode: TelegramMode::Webhook,
        })
        .checked()
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        assert_eq!(bot.address().as_deref(), Some("proctor_help_bot"));
        for wrong in ["helper", "ab_bot_", "bad name bot", "b"] {
            let refused = Settings::Telegram(TelegramSettings {
                bot_username: wrong.into(),
                mode: TelegramMode::Polling,
            })
            .checked();
            assert!(refused.is_err(), "{wrong}");
        }
        let web = Settings::Web(WebSettings {
            allowed_origins: vec![
                "https://Exams.Example.edu".into(),
                "https://exams.example.edu/".into(),
            ],
            confirm_email: false,
        })
        .checked()
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let Settings::Web(web) = web else {
            anyhow::bail!("not web");
        };
        assert_eq!(
            web.allowed_origins,
            vec!["https://exams.example.edu".to_owned()]
        );
        let refused = Settings::Web(WebSettings {
            allowed_origins: vec!["https://exams.example.edu/form?x=1".into()],
            confirm_email: false,
        })
        .checked();
        assert!(refused.is_err());
        Ok(())
    }
}
