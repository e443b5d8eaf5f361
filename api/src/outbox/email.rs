//! E-mail delivery through an SMTP relay, or, with none configured, into a folder of `.eml`
//! files (one per message, as lettre's file transport writes them) so that a deployment
//! without a relay, and a newcomer's first run, shows what would have left.
use super::worker::Failure;
use entity::outbox;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;

/// What a reply's outbox row carries.
#[derive(Deserialize)]
struct Payload {
    number: i64,
    subject: String,
    body_text: String,
    body_html: String,
    /// The requester's mail this answers, when the ticket came by e-mail.
    #[serde(default)]
    in_reply_to: Option<String>,
    /// Their earlier mails on the ticket.
    #[serde(default)]
    references: Vec<String>,
    /// The channel address the ticket's mail came to: the reply leaves from it.
    #[serde(default)]
    from_address: Option<String>,
    /// That channel's sender name.
    #[serde(default)]
    from_name: Option<String>,
}

/// Where messages go.
#[derive(Clone)]
enum Transport {
    /// An SMTP relay.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// A folder of `.eml` files.
    Files(AsyncFileTransport<Tokio1Executor>),
}

/// A relay that e-mail leaves through, with the sender address.
#[derive(Clone)]
pub struct Relay {
    transport: Transport,
    from: Mailbox,
}

impl Relay {
    /// A relay at `host:port` (plain SMTP) sending as `from`.
    ///
    /// # Errors
    /// Fails for an address without a port or a sender that is not an e-mail address.
    pub fn new(address: &str, from: &str) -> anyhow::Result<Self> {
        let (host, port) = address
            .rsplit_once(':')
            .ok_or_else(|| anyhow::anyhow!("delivery.smtp_relay must be host:port"))?;
        let port: u16 = port.parse()?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .build();
        Ok(Self {
            transport: Transport::Smtp(transport),
            from: from.parse()?,
        })
    }

    /// Writes each message as an `.eml` file into `dir` (created if missing), sending as
    /// `from`.
    ///
    /// # Errors
    /// Fails when the folder cannot be created or the sender is not an e-mail address.
    pub fn files(dir: &std::path::Path, from: &str) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(Self {
            transport: Transport::Files(AsyncFileTransport::<Tokio1Executor>::new(dir)),
            from: from.parse()?,
        })
    }

    /// Sends one row; returns the message's `Message-ID`, the provider's handle on it.
    ///
    /// # Errors
    /// [`Failure::Permanent`] for an unusable address or payload or a refusal for good (5xx),
    /// [`Failure::Transient`] for what may work later (4xx, the relay unreachable).
    pub async fn send(&self, row: &outbox::Model) -> Result<String, Failure> {
        let payload: Payload = serde_json::from_str(&row.payload)
            .map_err(|e| Failure::Permanent(format!("unreadable payload: {e}")))?;
        let to: Mailbox = row
            .recipient
            .as_deref()
            .unwrap_or_default()
            .parse()
            .map_err(|e| Failure::Permanent(format!("not an e-mail address: {e}")))?;
        let message_id = message_id_of(row.id);
        let from = match payload.from_address.as_deref().map(str::parse) {
            Some(Ok(address)) => Mailbox::new(payload.from_name.clone(), address),
            _ => self.from.clone(),
        };
        let mut builder = Message::builder().from(from);
        if let Some(answered) = &payload.in_reply_to {
            builder = builder.in_reply_to(format!("<{answered}>"));
        }
        if !payload.references.is_empty() {
            let references: Vec<String> = payload
                .references
                .iter()
                .map(|id| format!("<{id}>"))
                .collect();
            builder = builder.references(references.join(" "));
        }
        let message = builder
            .to(to)
            .subject(format!("[#{}] {}", payload.number, payload.subject))
            .message_id(Some(message_id.clone()))
            .multipart(MultiPart::alternative_plain_html(
                payload.body_text,
                payload.body_html,
            ))
            .map_err(|e| Failure::Permanent(format!("cannot build the message: {e}")))?;
        match &self.transport {
            Transport::Smtp(smtp) => match smtp.send(message).await {
                Ok(_) => Ok(message_id),
                Err(err) if err.is_permanent() => {
                    Err(Failure::Permanent(bounded(&err.to_string())))
                }
                Err(err) => Err(Failure::Transient(bounded(&err.to_string()))),
            },
            // A full or unwritable disk may pass: tried again.
            Transport::Files(files) => match files.send(message).await {
                Ok(_) => Ok(message_id),
                Err(err) => Err(Failure::Transient(bounded(&err.to_string()))),
            },
        }
    }
}

/// The `Message-ID` of the mail an outbox row sends: the row's id, so an answer naming it in
/// `In-Reply-To` or `References` leads back to the row (and its ticket), and a mail of ours
/// coming back is known.
pub fn message_id_of(row: uuid::Uuid) -> String {
    format!("<{row}@helpdesk>")
}

/// The outbox row a Message-ID (without angle brackets) that [`message_id_of`] gave names, if
/// it is one of ours.
pub fn row_of(message_id: &str) -> Option<uuid::Uuid> {
    message_id.strip_suffix("@helpdesk")?.parse().ok()
}

/// An error text cut to what a row keeps.
fn bounded(text: &str) -> String {
    text.chars().take(500).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_message_ids_lead_back_to_their_rows() {
        let row = uuid::Uuid::now_v7();
        let sent = message_id_of(row);
        assert_eq!(row_of(sent.trim_matches(['<', '>'])), Some(row));
        assert_eq!(row_of(&format!("{row}@elsewhere")), None);
        assert_eq!(row_of("x@helpdesk"), None);
    }
}
