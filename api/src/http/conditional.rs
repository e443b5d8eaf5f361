//! Conditional requests: `If-Match` as RFC 9110 §13.1.1 defines it, `*` or a list of entity
//! tags, compared strongly.
use crate::error::ApiError;
use crate::error::ErrorCode;
use actix_web::HttpRequest;
use actix_web::http::header;

/// Longest `If-Match` list read; a client holding more versions than this is not guarding an
/// edit.
const MAX_TAGS: usize = 64;

/// What an `If-Match` header asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: any current representation.
    Any,
    /// The listed entity tags as sent, quotes included (`"3"`, or `W/"3"`, which never matches).
    Tags(Vec<String>),
}

impl IfMatch {
    /// The condition the request's `If-Match` headers state (several header lines are one
    /// list); `None` without the header.
    ///
    /// # Errors
    /// 400 `invalid_if_match` for a value that is not text; 412 for a list that is not one of
    /// entity tags (it names no current version, so the precondition cannot hold).
    pub fn from_request(req: &HttpRequest) -> Result<Option<Self>, ApiError> {
        let mut values = req.headers().get_all(header::IF_MATCH).peekable();
        if values.peek().is_none() {
            return Ok(None);
        }
        let mut joined = String::new();
        for value in values {
            let value = value.to_str().map_err(|_| {
                ApiError::bad_request(ErrorCode::InvalidIfMatch, "If-Match is not text")
            })?;
            if !joined.is_empty() {
                joined.push(',');
            }
            joined.push_str(value);
        }
        Self::parse(&joined).map(Some)
    }

    /// Parses a field value: `*`, or `#entity-tag`.
    ///
    /// # Errors
    /// 412 when the value is neither.
    pub fn parse(value: &str) -> Result<Self, ApiError> {
        let unreadable = || {
            ApiError::PreconditionFailed(
                "If-Match must be `*` or a list of entity tags such as \"3\"".into(),
            )
        };
        if value.trim() == "*" {
            return Ok(Self::Any);
        }
        let mut tags = Vec::new();
        let mut rest = value.trim_start_matches([' ', '\t', ',']);
        while !rest.is_empty() {
            let (weak, quoted) = match rest.strip_prefix("W/") {
                Some(after) => (true, after),
                None => (false, rest),
            };
            let body = quoted.strip_prefix('"').ok_or_else(unreadable)?;
            let end = body.find('"').ok_or_else(unreadable)?;
            let opaque = &body[..end];
            if !opaque.bytes().all(is_etagc) {
                return Err(unreadable());
            }
            let tag = format!("{}\"{opaque}\"", if weak { "W/" } else { "" });
            tags.push(tag);
            if tags.len() > MAX_TAGS {
                return Err(unreadable());
            }
            rest = body[end + 1..].trim_start_matches([' ', '\t']);
            if !rest.is_empty() {
                rest = rest
                    .strip_prefix(',')
                    .ok_or_else(unreadable)?
                    .trim_start_matches([' ', '\t', ',']);
            }
        }
        if tags.is_empty() {
            return Err(unreadable());
        }
        Ok(Self::Tags(tags))
    }

    /// Whether the current strong entity tag `current` (quotes included) satisfies the
    /// condition; a weak tag never does (If-Match compares strongly).
    pub fn matches(&self, current: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Tags(tags) => tags.iter().any(|tag| tag == current),
        }
    }
}

/// `etagc` of RFC 9110: `!`, `#`-`~` and obs-text.
fn is_etagc(byte: u8) -> bool {
    byte == 0x21 || (0x23..=0x7e).contains(&byte) || byte >= 0x80
}

#[cfg(test)]
mod tests {
    use super::IfMatch;

    #[test]
    fn reads_star_lists_and_refuses_what_is_not_a_tag() {
        assert_eq!(IfMatch::parse(" * ").ok(), Some(IfMatch::Any));
        let list = IfMatch::parse("\"1\", W/\"2\",\"3\"").ok();
        assert_eq!(
            list,
            Some(IfMatch::Tags(vec![
                "\"1\"".into(),
                "W/\"2\"".into(),
                "\"3\"".into()
            ]))
        );
        let list = list.unwrap_or(IfMatch::Any);
        assert!(list.matches("\"3\"") && list.matches("\"1\""));
        assert!(!list.matches("\"2\""), "weak tags never match");
        for bad in ["", "garbage", "\"1\" \"2\"", "\"1", "1, \"2\"", "*, \"1\""] {
            assert!(IfMatch::parse(bad).is_err(), "{bad}");
        }
    }
}
