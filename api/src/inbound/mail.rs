//! Reading a raw RFC 5322 message into what the helpdesk keeps of it, and telling mail that
//! must never open a ticket or get an answer (auto-replies, bounces, lists) from mail a person
//! wrote. Parsing is `mail-parser`'s: MIME parts, quoted-printable and base64, RFC 2047 headers
//! and legacy charsets (KOI8-R, windows-1251, ...) decoded to UTF-8.
use mail_parser::{HeaderValue, Message, MessageParser, MimeHeaders};
use sha2::{Digest, Sha256};

/// Longest subject kept, in characters (the ticket's limit).
const SUBJECT_CHARS: usize = 300;
/// Longest text kept, in bytes (the ticket description's limit).
const TEXT_BYTES: usize = 64 * 1024;
/// Longest message id kept, in bytes (the column's size).
const ID_BYTES: usize = 500;
/// Most ids of earlier messages read from `In-Reply-To` and `References`.
const MOST_REFERENCES: usize = 50;

/// Why a mail gets neither a ticket nor an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ignored {
    /// `Auto-Submitted` other than `no`, or `X-Autoreply` / `X-Autorespond`: an out-of-office
    /// or another machine's answer.
    AutoReply,
    /// `Precedence: bulk`, `junk` or `list`, or a `List-Id`: mass mail.
    Bulk,
    /// A delivery status notification (`multipart/report`, or from a mailer daemon).
    Bounce,
    /// Mail the helpdesk sent itself, coming back (its own Message-ID).
    OwnMessage,
}

impl Ignored {
    /// The reason as the API names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Ignored::AutoReply => "auto_reply",
            Ignored::Bulk => "bulk",
            Ignored::Bounce => "bounce",
            Ignored::OwnMessage => "own_message",
        }
    }
}

/// What is kept of a received mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    /// The sender's address, lower case.
    pub from: String,
    /// The sender's display name, if given.
    pub from_name: Option<String>,
    /// The addresses copied (`Cc`), lower case.
    pub cc: Vec<String>,
    /// The subject, decoded, at most 300 characters; `(no subject)` when absent.
    pub subject: String,
    /// The sender's id of the message, without angle brackets; a digest of the raw message
    /// when it has none, so a second delivery of it is still known.
    pub message_id: String,
    /// Ids of earlier messages this one answers (`In-Reply-To` first, then `References`).
    pub references: Vec<String>,
    /// The text: the plain part, or the HTML part's text; at most 64 KiB.
    pub text: String,
    /// Whether the text was cut to fit.
    pub truncated: bool,
}

/// Why a raw message cannot be read as mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unreadable {
    /// Not an RFC 5322 message at all.
    NotMail,
    /// No usable `From` address.
    NoSender,
}

fn header_text<'a>(message: &'a Message<'a>, name: &'static str) -> Option<&'a str> {
    message.header(name).and_then(HeaderValue::as_text)
}

/// Whether the mail is one the helpdesk must not answer, and why.
pub fn ignored(message: &Message<'_>) -> Option<Ignored> {
    let lower =
        |name: &'static str| header_text(message, name).map(|v| v.trim().to_ascii_lowercase());
    if lower("Auto-Submitted").is_some_and(|v| v != "no")
        || message.header("X-Autoreply").is_some()
        || message.header("X-Autorespond").is_some()
    {
        return Some(Ignored::AutoReply);
    }
    if lower("Precedence").is_some_and(|v| matches!(v.as_str(), "bulk" | "junk" | "list"))
        || message.header("List-Id").is_some()
    {
        return Some(Ignored::Bulk);
    }
    let report = message.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    });
    let daemon = message
        .from()
        .and_then(|from| from.first())
        .and_then(|addr| addr.address())
        .is_some_and(|addr| {
            let local = addr
                .split('@')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            local == "mailer-daemon" || local == "postmaster"
        });
    if report || daemon {
        return Some(Ignored::Bounce);
    }
    None
}

fn bounded(text: &str, bytes: usize) -> (String, bool) {
    if text.len() <= bytes {
        return (text.to_owned(), false);
    }
    let mut end = bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (text[..end].to_owned(), true)
}

/// Text that the database takes on both backends: no NUL, no other control characters but
/// line breaks and tabs.
fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect()
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(id) => vec![id.to_string()],
        HeaderValue::TextList(list) => list.iter().map(|id| id.to_string()).collect(),
        _ => Vec::new(),
    }
}

fn usable_id(id: &str) -> Option<String> {
    let id = clean(id.trim().trim_start_matches('<').trim_end_matches('>'));
    (!id.is_empty() && id.len() <= ID_BYTES).then_some(id)
}

/// Parses a raw message, or says why it cannot be read; `ignored` is separate, so a bounce can
/// be told apart from garbage.
///
/// # Errors
/// [`Unreadable`] for bytes that are not mail or mail without a sender.
pub fn parse(raw: &[u8]) -> Result<(Mail, Option<Ignored>), Unreadable> {
    let message = MessageParser::default()
        .parse(raw)
        .filter(|m| !m.headers().is_empty())
        .ok_or(Unreadable::NotMail)?;
    let sender = message.from().and_then(|from| from.first());
    let from = sender
        .and_then(|addr| addr.address())
        .map(|addr| clean(addr.trim()).to_lowercase())
        .filter(|addr| addr.contains('@') && addr.len() <= 320)
        .ok_or(Unreadable::NoSender)?;
    let from_name = sender
        .and_then(|addr| addr.name())
        .map(|name| clean(name.trim()))
        .filter(|name| !name.is_empty())
        .map(|name| name.chars().take(200).collect());
    let cc = message
        .cc()
        .map(|cc| {
            cc.iter()
                .filter_map(|addr| addr.address())
                .map(|addr| clean(addr.trim()).to_lowercase())
                .filter(|addr| addr.contains('@') && addr.len() <= 320)
                .take(20)
                .collect()
        })
        .unwrap_or_default();
    let subject: String = message
        .subject()
        .map(|s| clean(s.trim()).replace(['\n', '\t'], " "))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "(no subject)".to_owned())
        .chars()
        .take(SUBJECT_CHARS)
        .collect();
    let message_id = message
        .message_id()
        .and_then(usable_id)
        .unwrap_or_else(|| format!("sha256:{}", hex::encode(Sha256::digest(raw))));
    let mut references: Vec<String> = ids(message.in_reply_to())
        .into_iter()
        .chain(ids(message.references()))
        .filter_map(|id| usable_id(&id))
        .collect();
    references.dedup();
    references.truncate(MOST_REFERENCES);
    let body = match message.body_text(0) {
        Some(text) => text.into_owned(),
        None => message
            .body_html(0)
            .map(|html| crate::tickets::html::plain_text(&crate::tickets::html::sanitise(&html)))
            .unwrap_or_default(),
    };
    let (text, truncated) = bounded(clean(&body).trim(), TEXT_BYTES);
    let ignored = ignored(&message);
    Ok((
        Mail {
            from,
            from_name,
            cc,
            subject,
            message_id,
            references,
            text,
            truncated,
        },
        ignored,
    ))
}

/// The ticket number a subject names with the helpdesk's tag, `[#123]`, if any.
pub fn tagged_number(subject: &str) -> Option<i64> {
    let mut rest = subject;
    while let Some(start) = rest.find("[#") {
        let after = &rest[start + 2..];
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && after[digits.len()..].starts_with(']') {
            return digits.parse().ok();
        }
        rest = after;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_name_tickets_with_their_tag() {
        assert_eq!(tagged_number("Re: [#123] Camera fails"), Some(123));
        assert_eq!(tagged_number("Re: [#12a] [#7] x"), Some(7));
        assert_eq!(tagged_number("[#] nothing"), None);
        assert_eq!(tagged_number("no tag"), None);
    }

    #[test]
    fn a_mail_without_message_id_is_known_by_its_digest() {
        let raw = b"From: a@b.example\r\nSubject: x\r\n\r\nhello\r\n";
        let (mail, ignored) = parse(raw).unwrap();
        assert!(mail.message_id.starts_with("sha256:"));
        assert_eq!(parse(raw).unwrap().0.message_id, mail.message_id);
        assert_eq!(ignored, None);
        assert_eq!(mail.text, "hello");
    }

    #[test]
    fn garbage_and_senderless_mail_are_unreadable() {
        assert_eq!(parse(b"").err(), Some(Unreadable::NotMail));
        assert_eq!(
            parse(b"Subject: x\r\n\r\nbody").err(),
            Some(Unreadable::NoSender)
        );
    }
}
