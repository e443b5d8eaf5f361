//! Request and response bodies of the channel endpoints.
use super::domain::{
    ChannelKind, EmailSettings, SecretName, Settings, TelegramSettings, WebSettings,
    WhatsappSettings,
};
use crate::tickets::domain::TicketPriority;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Secrets of a channel: written here, never answered. In an update, a secret that is sent
/// replaces the stored one, `null` removes it and one that is left out stays as it is.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelSecrets {
    /// E-mail: authenticates a relay posting raw mail to the channel.
    #[serde(default, deserialize_with = "crate::http::patch::present")]
    #[schema(value_type = Option<String>, write_only)]
    pub inbound_secret: Option<Option<SecretString>>,
    /// E-mail: the SMTP account's password.
    #[serde(default, deserialize_with = "crate::http::patch::present")]
    #[schema(value_type = Option<String>, write_only)]
    pub smtp_password: Option<Option<SecretString>>,
    /// E-mail: the IMAP account's password.
    #[serde(default, deserialize_with = "crate::http::patch::present")]
    #[schema(value_type = Option<String>, write_only)]
    pub imap_password: Option<Option<SecretString>>,
    /// WhatsApp: the Cloud API access token.
    #[serde(default, deserialize_with = "crate::http::patch::present")]
    #[schema(value_type = Option<String>, write_only)]
    pub access_token: Option<Option<SecretString>>,
    /// WhatsApp: the app secret that signs webhook deliveries.
    #[serde(default, deserialize_with = "crate::http::patch::present")]
    #[schema(value_type = Option<String>, write_only)]
    pub app_secret: Option<Option<SecretString>>,
    /// WhatsApp: the token Meta echoes when it verifies the webhook.
    #[serde(default, deserialize_with = "crate::http::patch::present")]
    #[schema(value_type = Option<String>, write_only)]
    pub verify_token: Option<Option<SecretString>>,
    /// Telegram: the bot token.
    #[serde(default, deserialize_with = "crate::http::patch::present")]
    #[schema(value_type = Option<String>, write_only)]
    pub bot_token: Option<Option<SecretString>>,
    /// Telegram: the webhook's secret token.
    #[serde(default, deserialize_with = "crate::http::patch::present")]
    #[schema(value_type = Option<String>, write_only)]
    pub webhook_secret: Option<Option<SecretString>>,
    /// Web form: the captcha verification secret.
    #[serde(default, deserialize_with = "crate::http::patch::present")]
    #[schema(value_type = Option<String>, write_only)]
    pub captcha_secret: Option<Option<SecretString>>,
}

impl ChannelSecrets {
    /// Each secret that was sent: its name and new value (`None` to remove it).
    pub fn into_changes(self) -> Vec<(SecretName, Option<SecretString>)> {
        [
            (SecretName::InboundSecret, self.inbound_secret),
            (SecretName::SmtpPassword, self.smtp_password),
            (SecretName::ImapPassword, self.imap_password),
            (SecretName::AccessToken, self.access_token),
            (SecretName::AppSecret, self.app_secret),
            (SecretName::VerifyToken, self.verify_token),
            (SecretName::BotToken, self.bot_token),
            (SecretName::WebhookSecret, self.webhook_secret),
            (SecretName::CaptchaSecret, self.captcha_secret),
        ]
        .into_iter()
        .filter_map(|(name, sent)| sent.map(|value| (name, value)))
        .collect()
    }
}

/// Body of `POST /channels`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChannel {
    /// The channel's tenant (the caller's own when absent): one whose tickets the caller works.
    pub tenant_id: Option<Uuid>,
    /// What the channel is.
    pub kind: ChannelKind,
    /// Name, unique within the tenant.
    pub name: String,
    /// Whether traffic flows; `true` when absent.
    pub enabled: Option<bool>,
    /// The group arriving tickets go to (of the channel's tenant or one above it).
    pub default_group_id: Option<Uuid>,
    /// The priority of arriving tickets.
    pub priority: Option<TicketPriority>,
    /// Tags of arriving tickets.
    pub tags: Option<Vec<String>>,
    /// The language of arriving messages when they do not tell (`en`, `ru`, `pt-BR`, ...).
    pub locale: Option<String>,
    /// Settings of an `email` channel.
    pub email: Option<EmailSettings>,
    /// Settings of a `whatsapp` channel.
    pub whatsapp: Option<WhatsappSettings>,
    /// Settings of a `telegram` channel.
    pub telegram: Option<TelegramSettings>,
    /// Settings of a `web` channel.
    pub web: Option<WebSettings>,
    /// The channel's secrets (write-only).
    pub secrets: Option<ChannelSecrets>,
}

/// Body of `PATCH /channels/{id}`: only the fields sent change; a settings section replaces
/// the channel's settings as a whole. The kind never changes.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateChannel {
    /// Name.
    pub name: Option<String>,
    /// Whether traffic flows.
    pub enabled: Option<bool>,
    /// The group arriving tickets go to; `null` for none.
    #[serde(default, deserialize_with = "crate::http::patch::present")]
    #[schema(value_type = Option<Uuid>)]
    pub default_group_id: Option<Option<Uuid>>,
    /// The priority of arriving tickets; `null` for the default.
    #[serde(default, deserialize_with = "crate::http::patch::present")]
    #[schema(value_type = Option<TicketPriority>)]
    pub priority: Option<Option<TicketPriority>>,
    /// Tags of arriving tickets.
    pub tags: Option<Vec<String>>,
    /// The language of arriving messages; `null` for none.
    #[serde(default, deserialize_with = "crate::http::patch::present")]
    #[schema(value_type = Option<String>)]
    pub locale: Option<Option<String>>,
    /// New settings of an `email` channel.
    pub email: Option<EmailSettings>,
    /// New settings of a `whatsapp` channel.
    pub whatsapp: Option<WhatsappSettings>,
    /// New settings of a `telegram` channel.
    pub telegram: Option<TelegramSettings>,
    /// New settings of a `web` channel.
    pub web: Option<WebSettings>,
    /// Secrets to set (a value) or remove (`null`).
    pub secrets: Option<ChannelSecrets>,
}

/// Filters of `GET /channels`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChannelFilter {
    /// Only channels of this tenant.
    pub tenant_id: Option<Uuid>,
    /// Only channels of this kind.
    pub kind: Option<ChannelKind>,
}

/// A channel as the API shows it: everything but its secrets, of which only the names of
/// those that are set are shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelDto {
    /// Id.
    pub id: Uuid,
    /// Tenant.
    pub tenant_id: Uuid,
    /// What the channel is.
    pub kind: ChannelKind,
    /// Name.
    pub name: String,
    /// Whether traffic flows.
    pub enabled: bool,
    /// The group arriving tickets go to.
    pub default_group_id: Option<Uuid>,
    /// The priority of arriving tickets.
    pub priority: Option<TicketPriority>,
    /// Tags of arriving tickets.
    pub tags: Vec<String>,
    /// The language of arriving messages when they do not tell.
    pub locale: Option<String>,
    /// Settings, for an `email` channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailSettings>,
    /// Settings, for a `whatsapp` channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub whatsapp: Option<WhatsappSettings>,
    /// Settings, for a `telegram` channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telegram: Option<TelegramSettings>,
    /// Settings, for a `web` channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web: Option<WebSettings>,
    /// The secrets that are set (their values are never shown).
    pub secrets_set: Vec<SecretName>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl ChannelDto {
    /// The API shape of a stored channel.
    ///
    /// # Errors
    /// Fails for a row whose kind or settings do not read (a corrupted row).
    pub fn new(model: entity::channel::Model) -> anyhow::Result<Self> {
        let kind = ChannelKind::from_stored(&model.kind)
            .ok_or_else(|| anyhow::anyhow!("channel {} has an unknown kind", model.id))?;
        let settings = Settings::from_json(kind, &model.settings)?;
        let sealed: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&model.secrets)?;
        let secrets_set = SecretName::ALL
            .iter()
            .copied()
            .filter(|name| sealed.contains_key(name.as_str()))
            .collect();
        let tags: Vec<String> = serde_json::from_str(&model.tags)?;
        let priority = model
            .priority
            .as_deref()
            .and_then(TicketPriority::from_stored);
        let (mut email, mut whatsapp, mut telegram, mut web) = (None, None, None, None);
        match settings {
            Settings::Email(s) => email = Some(s),
            Settings::Whatsapp(s) => whatsapp = Some(s),
            Settings::Telegram(s) => telegram = Some(s),
            Settings::Web(s) => web = Some(s),
            Settings::Api => {}
        }
        Ok(Self {
            id: model.id,
            tenant_id: model.tenant_id,
            kind,
            name: model.name,
            enabled: model.enabled,
            default_group_id: model.default_group_id,
            priority,
            tags,
            locale: model.locale,
            email,
            whatsapp,
            telegram,
            web,
            secrets_set,
            created_at: model.created_at,
            updated_at: model.updated_at,
        })
    }
}
