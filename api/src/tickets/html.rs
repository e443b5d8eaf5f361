//! Message bodies: the one place that turns what an agent or integrator sent into the sanitised
//! HTML agents read and the plain text that e-mail and WhatsApp carry. Replies, notes,
//! automatic notes and mass replies all go through here.
use crate::error::ApiError;
use html2text::render::{TaggedLine, TextDecorator};
use std::borrow::Cow;
use std::sync::LazyLock;

/// Largest message body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Deepest element nesting accepted. Parsing HTML takes time quadratic in its depth (a 256 KiB
/// body of nested `<div>`s kept a core busy for seconds), and no message needs this many levels.
pub const MAX_NESTING: usize = 256;

/// Columns at which plain text would wrap; wide enough that channels do their own wrapping.
const TEXT_WIDTH: usize = 10_000;

/// The sanitiser: ammonia's safe defaults, and images only from inline attachments (`cid:`), so
/// a message cannot carry a remote image that tells a third party when it was read.
static SANITISER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder.add_url_schemes(["cid"]);
    builder.attribute_filter(|element, attribute, value| {
        if element == "img" && attribute == "src" && !is_inline_image(value) {
            None
        } else {
            Some(Cow::Borrowed(value))
        }
    });
    builder
});

/// Whether an image source names a part of the message itself rather than something to fetch.
fn is_inline_image(src: &str) -> bool {
    src.trim()
        .get(..4)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("cid:"))
}

/// Escapes text for HTML: `&`, `<`, `>`, `"` and `'`, and nothing else (spaces stay spaces).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// Plain text as HTML: paragraphs at blank lines, `<br>` at single line breaks.
pub fn text_to_html(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let lines: Vec<String> = p.lines().map(|l| escape(l.trim_end())).collect();
            format!("<p>{}</p>", lines.join("<br>"))
        })
        .collect()
}

/// What a message body is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Markup {
    /// HTML, sanitised before it is stored.
    Html,
    /// Plain text: its line breaks are kept.
    Text,
}

impl Markup {
    /// HTML when the body holds a tag, comment or declaration; plain text otherwise.
    pub fn of(body: &str) -> Self {
        let markup = body.as_bytes().windows(2).any(|pair| {
            pair[0] == b'<'
                && (pair[1].is_ascii_alphabetic() || matches!(pair[1], b'/' | b'!' | b'?'))
        });
        if markup { Markup::Html } else { Markup::Text }
    }

    /// `value` written so that it reads as itself in a body of this markup.
    pub fn literal<'a>(self, value: &'a str) -> Cow<'a, str> {
        match self {
            Markup::Html => Cow::Owned(escape(value)),
            Markup::Text => Cow::Borrowed(value),
        }
    }
}

/// Sanitised HTML: scripts, event handlers, unsafe markup and remote images removed.
pub fn sanitise(html: &str) -> String {
    SANITISER.clean(html).to_string()
}

/// Renders HTML as plain text: block elements and `<br>` end lines, list items start with
/// `- ` (or their number), entities are decoded, whitespace inside a line is collapsed, and a
/// link keeps its address after its text.
pub fn plain_text(html: &str) -> String {
    let rendered = html2text::config::with_decorator(MessageText::default())
        .string_from_read(html.as_bytes(), TEXT_WIDTH)
        .unwrap_or_default();
    tidy(&rendered)
}

/// Trailing spaces gone, at most one blank line in a row, no blank lines at either end.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.lines().map(str::trim_end) {
        if line.is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_run > 0 { "\n\n" } else { "\n" });
        }
        blank_run = 0;
        out.push_str(line);
    }
    out
}

/// Sanitised HTML and plain text of a message body, which may be HTML or plain text.
///
/// # Errors
/// 422 naming `body` when it is empty, over [`MAX_BODY_BYTES`], or empty once unsafe markup
/// is removed (e.g. only a `<script>`).
pub fn render_body(body: &str) -> Result<(String, String), ApiError> {
    render_body_as(body, Markup::of(body))
}

/// [`render_body`] for a body whose markup is already known (a template's, say, whose
/// placeholders may hold `<` without making the body HTML).
///
/// # Errors
/// As [`render_body`].
pub fn render_body_as(body: &str, markup: Markup) -> Result<(String, String), ApiError> {
    if body.trim().is_empty() {
        return Err(ApiError::invalid("body", "must not be empty"));
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::invalid("body", "must be at most 256 KiB"));
    }
    if markup == Markup::Html && nesting_depth(body) > MAX_NESTING {
        return Err(ApiError::invalid(
            "body",
            format!("elements are nested more than {MAX_NESTING} deep"),
        ));
    }
    let (html, text) = match markup {
        Markup::Html => {
            let html = sanitise(body);
            let text = plain_text(&html);
            (html, text)
        }
        Markup::Text => (text_to_html(body), tidy(&body.replace("\r\n", "\n"))),
    };
    if text.trim().is_empty() {
        return Err(ApiError::invalid(
            "body",
            "has no text once scripts and unsafe markup are removed",
        ));
    }
    Ok((html, text))
}

/// Elements that never hold others (void) or that the next sibling closes on its own: they do
/// not deepen the tree however many are written.
const FLAT_ELEMENTS: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead",
    "tbody", "tfoot", "colgroup", "caption", "rb", "rt", "rp", "html", "head", "body",
];

/// How deep the tags of `html` nest, up to one more than [`MAX_NESTING`], following the
/// parser's stack of open elements closely enough: an end tag closes the innermost open element
/// of its name and everything inside it, and one with no such element open changes nothing.
/// A quick scan, not a parse: tags inside comments count too, so it errs towards deeper.
fn nesting_depth(html: &str) -> usize {
    let bytes = html.as_bytes();
    let mut open: Vec<String> = Vec::new();
    let (mut deepest, mut i) = (0usize, 0usize);
    while let Some(offset) = bytes[i..].iter().position(|&b| b == b'<') {
        i += offset + 1;
        let closing = bytes.get(i) == Some(&b'/');
        let start = if closing { i + 1 } else { i };
        let end = bytes[start..]
            .iter()
            .position(|b| !b.is_ascii_alphanumeric())
            .map_or(bytes.len(), |n| start + n);
        if end == start || !bytes[start].is_ascii_alphabetic() {
            continue;
        }
        i = end;
        let name = html[start..end].to_ascii_lowercase();
        if FLAT_ELEMENTS.contains(&name.as_str()) {
            continue;
        }
        if closing {
            if let Some(at) = open.iter().rposition(|n| *n == name) {
                open.truncate(at);
            }
            continue;
        }
        let self_closing = bytes[end..]
            .iter()
            .position(|&b| b == b'>')
            .is_some_and(|n| n > 0 && bytes[end + n - 1] == b'/');
        if !self_closing {
            open.push(name);
            deepest = deepest.max(open.len());
            if deepest > MAX_NESTING {
                break;
            }
        }
    }
    deepest
}

/// How markup shows in plain text: no emphasis marks, `- ` before list items, a link's address
/// after its text.
#[derive(Clone, Debug, Default)]
struct MessageText {
    /// Addresses of the links being rendered, innermost last.
    links: Vec<String>,
}

impl TextDecorator for MessageText {
    type Annotation = ();

    fn decorate_link_start(&mut self, url: &str) -> (String, Self::Annotation) {
        self.links.push(url.to_owned());
        (String::new(), ())
    }

    fn decorate_link_end(&mut self) -> String {
        match self.links.pop() {
            Some(url) if is_shown_address(&url) => format!(" ({url})"),
            _ => String::new(),
        }
    }

    fn decorate_em_start(&self) -> (String, Self::Annotation) {
        (String::new(), ())
    }

    fn decorate_em_end(&self) -> String {
        String::new()
    }

    fn decorate_strong_start(&self) -> (String, Self::Annotation) {
        (String::new(), ())
    }

    fn decorate_strong_end(&self) -> String {
        String::new()
    }

    fn decorate_strikeout_start(&self) -> (String, Self::Annotation) {
        (String::new(), ())
    }

    fn decorate_strikeout_end(&self) -> String {
        String::new()
    }

    fn decorate_code_start(&self) -> (String, Self::Annotation) {
        (String::new(), ())
    }

    fn decorate_code_end(&self) -> String {
        String::new()
    }

    fn decorate_preformat_first(&self) -> Self::Annotation {}

    fn decorate_preformat_cont(&self) -> Self::Annotation {}

    fn decorate_image(&mut self, _src: &str, title: &str) -> (String, Self::Annotation) {
        (title.to_owned(), ())
    }

    fn header_prefix(&self, _level: usize) -> String {
        String::new()
    }

    fn quote_prefix(&self) -> String {
        "> ".to_owned()
    }

    fn unordered_item_prefix(&self) -> String {
        "- ".to_owned()
    }

    fn ordered_item_prefix(&self, i: i64) -> String {
        format!("{i}. ")
    }

    fn make_subblock_decorator(&self) -> Self {
        Self::default()
    }

    fn finalise(&mut self, _urls: Vec<String>) -> Vec<TaggedLine<Self::Annotation>> {
        Vec::new()
    }
}

/// Whether a link's address is worth writing out in plain text (not an in-page anchor).
fn is_shown_address(url: &str) -> bool {
    let url = url.trim();
    !url.is_empty() && !url.starts_with('#')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(body: &str) -> String {
        render_body(body).unwrap().1
    }

    #[test]
    fn blocks_and_breaks_end_lines() {
        assert_eq!(
            text("<p>Hello Ana,</p><p>Restart.</p>"),
            "Hello Ana,\n\nRestart."
        );
        assert_eq!(text("one<br>two<br/>three"), "one\ntwo\nthree");
        assert_eq!(text("<div>a</div><div>b</div>"), "a\nb");
        assert_eq!(text("<h1>Title</h1><p>Body</p>"), "Title\n\nBody");
    }

    #[test]
    fn lists_get_markers() {
        assert_eq!(
            text("<p>Try:</p><ul><li>restart</li><li>reinstall</li></ul>"),
            "Try:\n- restart\n- reinstall"
        );
        assert_eq!(
            text("<ol><li>first</li><li>second</li></ol>"),
            "1. first\n2. second"
        );
    }

    #[test]
    fn entities_are_decoded_and_whitespace_collapsed() {
        assert_eq!(
            text("<p>Tom &amp; Jerry   &lt;3\n  again&nbsp;now</p>"),
            "Tom & Jerry <3 again\u{a0}now"
        );
    }

    #[test]
    fn links_keep_their_address() {
        assert_eq!(
            text(r#"<p>See <a href="https://help.example/x">the guide</a>.</p>"#),
            "See the guide (https://help.example/x)."
        );
    }

    #[test]
    fn plain_text_keeps_its_lines_and_is_escaped_as_html() {
        let (html, text) = render_body("Hello Ana,\n\nRestart & retry.\nThanks").unwrap();
        assert_eq!(text, "Hello Ana,\n\nRestart & retry.\nThanks");
        assert_eq!(
            html,
            "<p>Hello Ana,</p><p>Restart &amp; retry.<br>Thanks</p>"
        );
        assert_eq!(render_body("a < b").unwrap().1, "a < b");
    }

    #[test]
    fn nothing_left_after_sanitising_is_refused() {
        for body in [
            "<script>alert(1)</script>",
            "<style>p{}</style>",
            "<p> </p>",
            "<br>",
        ] {
            let err = render_body(body).unwrap_err();
            assert_eq!(err.code(), "validation_failed", "{body}");
        }
    }

    #[test]
    fn remote_images_are_dropped_and_inline_ones_kept() {
        let (html, _) =
            render_body(r#"<p>Hi</p><img src="http://tracker.example/p.gif" width="1">"#).unwrap();
        assert!(!html.contains("tracker"), "{html}");
        for src in [
            "//tracker.example/p.gif",
            "https://tracker.example/p.gif",
            "data:image/png;base64,AAAA",
            "/api/v1/attachments/x/content",
        ] {
            let (html, _) = render_body(&format!(r#"<p>Hi</p><img src="{src}">"#)).unwrap();
            assert!(!html.contains("src="), "{src}: {html}");
        }
        let (html, _) = render_body(r#"<p>Hi</p><img src="cid:logo@x" alt="logo">"#).unwrap();
        assert!(html.contains(r#"src="cid:logo@x""#), "{html}");
    }

    #[test]
    fn escape_leaves_spaces_alone() {
        assert_eq!(
            escape(r#"Handed over from A & B to <C> "D" 'E'"#),
            "Handed over from A &amp; B to &lt;C&gt; &quot;D&quot; &#39;E&#39;"
        );
    }

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let deep = |n: usize| format!("{}deep{}", "<div>".repeat(n), "</div>".repeat(n));
        assert_eq!(text(&deep(MAX_NESTING)), "deep");
        let started = std::time::Instant::now();
        let err = render_body(&deep(20_000)).unwrap_err();
        assert_eq!(err.code(), "validation_failed");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert!(render_body(&"<b>".repeat(MAX_NESTING + 1)).is_err());
        // Elements the next one closes, and void ones, do not nest however many there are.
        let flat = "<p>a<li>b<br><img src=x><td>c".repeat(1_000);
        assert_eq!(nesting_depth(&flat), 0);
        assert_eq!(nesting_depth("<div><span/>x</div><div>"), 1);
        assert_eq!(nesting_depth("a < b and 1<2 </div> <!-- <div> -->"), 1);
        assert_eq!(nesting_depth("<div><b><i>x</div><div>"), 3);
        // End tags that close nothing do not make room for more.
        assert!(render_body(&"<div></span>".repeat(MAX_NESTING + 1)).is_err());
    }
}
