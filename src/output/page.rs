//! The page of mailto: links: one card per letter, each with a button that opens the letter in
//! the volunteer's own mail program. Nothing from a campaign or a volunteer becomes live HTML.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use pulldown_cmark_escape::escape_html;

use crate::campaign::recipients::{is_placeholder_address, placeholders_said};
use crate::letter::markdown;
use crate::letter::render::Letter;

/// RFC 3986 unreserved characters stay; everything else in a mailto: URL is percent-encoded.
const MAILTO: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Mail programs and webmail that take a `mailto:` link at all take one this long: Outlook on
/// Windows and some webmail cut or refuse longer ones.
pub const MAX_LINK: usize = 2000;

/// The page's one script, the same on every page: it reads the letters from escaped elements.
pub const SCRIPT: &str = include_str!("page.js");

/// What the HTML page says about the run as a whole.
#[derive(Debug, Clone)]
pub struct PageInfo {
    pub title: String,
    pub group_label: String,
    pub signer: String,
    /// The campaign and group ids: the page's ticks are kept in the browser under them.
    pub campaign_id: String,
    pub group_id: String,
    /// The date the letters are dated, as the page shows it.
    pub date: String,
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_html(&mut out, s).ok();
    out
}

fn encode(s: &str) -> String {
    utf8_percent_encode(s, MAILTO).to_string()
}

/// The letter's `mailto:` link, and whether it leaves the body out: a link with the body is used
/// only when it is shorter than `MAX_LINK`; then one with the subject; else the address alone.
fn mailto(letter: &Letter) -> (String, bool) {
    let to = format!("mailto:{}", encode(&letter.email).replace("%40", "@"));
    let with_subject = format!("{to}?subject={}", encode(&letter.subject));
    let body = letter.body.replace("\r\n", "\n").replace('\n', "\r\n");
    let whole = format!("{with_subject}&body={}", encode(&body));
    if whole.len() < MAX_LINK {
        (whole, false)
    } else if with_subject.len() < MAX_LINK {
        (with_subject, true)
    } else {
        (to, true)
    }
}

pub fn page_head(page: &PageInfo) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — {group}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; display: flex; flex-direction: column; }}
.placeholders {{ order: -3; background: #fff4e5; border: 2px solid #b45309; border-radius: 6px; padding: .75rem 1rem; }}
header {{ order: -2; }}
nav {{ order: -1; }}
.placeholder {{ color: #b45309; font-weight: bold; }}
.progress {{ font-weight: bold; }}
nav li.done::after, article.done h2::after {{ content: " ✓ sent"; color: #15803d; font-size: .9rem; }}
article {{ border: 1px solid #ccc; border-radius: 6px; padding: 1rem 1.5rem; margin: 1.5rem 0; }}
article h2 {{ margin: 0 0 .25rem; font-size: 1.2rem; }}
.address {{ color: #555; font-size: .9rem; }}
.subject {{ font-weight: bold; }}
.actions {{ display: flex; flex-wrap: wrap; gap: .75rem; align-items: center; }}
button.copy, button.export, a.send {{ font: inherit; display: inline-block; background: #1d4ed8; color: #fff; padding: .5rem 1rem; border: 0; border-radius: 4px; text-decoration: none; cursor: pointer; }}
.notice, .status {{ color: #555; font-size: .9rem; }}
</style>
</head>
<body data-page="{campaign}:{group_id}">
<header>
<h1>{title}</h1>
<p>Letters to <strong>{group}</strong>, signed by {signer}, dated {date}.</p>
<p>For each letter: <strong>Copy letter</strong> puts it on your clipboard, <strong>Open in my mail program</strong> starts the message to the recipient; once it is sent, tick <strong>I sent this</strong> (the ticks are kept in this browser).</p>
<p class="progress" id="progress" aria-live="polite"></p>
<p><button type="button" class="export">Save my ticks to a file</button> for <code>letterdrive mark-sent --from FILE</code>, so the campaign counts these letters.</p>
</header>
<main>
"#,
        title = esc(&page.title),
        group = esc(&page.group_label),
        signer = esc(&page.signer),
        date = esc(&page.date),
        campaign = esc(&page.campaign_id),
        group_id = esc(&page.group_id),
    )
}

/// The end of the page: the index of recipients (`index`, one `index_entry` per letter) and a
/// warning when some addresses are placeholders, written last, as only then are they all known,
/// and shown first (the page is a flex column; see its style); then the script.
pub fn page_foot(placeholders: u64, letters: u64, index: &str) -> String {
    let warning = match placeholders {
        0 => String::new(),
        n => format!(
            "<p class=\"placeholders\" role=\"alert\"><strong>Warning:</strong> {}. Ask the campaign for real addresses before sending.</p>\n",
            esc(&placeholders_said(n, letters))
        ),
    };
    format!(
        "</main>\n{warning}<nav aria-label=\"Recipients\">\n<h2>Recipients</h2>\n<ol>\n{index}</ol>\n</nav>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n"
    )
}

/// The letter's line in the page's index of recipients.
pub fn index_entry(letter: &Letter) -> String {
    format!(
        "<li id=\"index-letter-{index}\"><a href=\"#letter-{index}\">{name}</a></li>\n",
        index = letter.index,
        name = esc(display_name(letter)),
    )
}

fn display_name(letter: &Letter) -> &str {
    match letter.name.trim() {
        "" => &letter.email,
        name => name,
    }
}

pub fn html_card(letter: &Letter) -> String {
    let mut body = String::with_capacity(letter.body.len() * 2);
    markdown::to_html(&letter.body, &mut body);
    let (link, short) = mailto(letter);
    // The parser drops the newline right after `<pre>`: it is ours, so the text keeps its own.
    format!(
        r#"<article id="letter-{index}" data-to="{email}">
<h2>{name}</h2>
<p class="address">{email}</p>
{warning}<p class="subject" lang="{lang}">{subject}</p>
<div class="letter" lang="{lang}">
{body}</div>
<pre class="plain" hidden>
{plain}</pre>
<p class="actions"><button type="button" class="copy">Copy letter</button> <a class="send" href="{link}"{copy_first}>Open in my mail program</a> <label><input type="checkbox" class="sent"> I sent this</label></p>
{notice}<p class="status" role="status"></p>
</article>
"#,
        index = letter.index,
        name = esc(display_name(letter)),
        email = esc(&letter.email),
        warning = if is_placeholder_address(&letter.email) {
            "<p class=\"placeholder\">This address is a placeholder on a reserved example domain: a letter to it reaches no one.</p>\n"
        } else {
            ""
        },
        subject = esc(&letter.subject),
        lang = esc(&letter.language),
        plain = esc(&letter.body),
        link = esc(&link),
        copy_first = if short { " data-copy-first" } else { "" },
        notice = if short {
            "<p class=\"notice\">This letter is too long for a mail link: the button copies it first, then paste it into the message.</p>\n"
        } else {
            ""
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailto_encodes_everything_but_unreserved() {
        let letter = Letter {
            index: 1,
            line: 2,
            name: "Zoë".into(),
            email: "a.b@example.org".into(),
            subject: "Hello & bye?".into(),
            body: "Line 1\nLine 2".into(),
            language: "en".into(),
            postal: vec![],
            own_words: Default::default(),
            personal: Default::default(),
        };
        let (url, short) = mailto(&letter);
        assert_eq!(
            url,
            "mailto:a.b@example.org?subject=Hello%20%26%20bye%3F&body=Line%201%0D%0ALine%202"
        );
        assert!(!short);
    }

    #[test]
    fn a_long_letter_links_with_subject_only_and_a_long_subject_with_the_address_only() {
        let mut letter = Letter {
            index: 1,
            line: 2,
            name: "Zoë".into(),
            email: "a.b@example.org".into(),
            subject: "Hello".into(),
            body: "é".repeat(400),
            language: "en".into(),
            postal: vec![],
            own_words: Default::default(),
            personal: Default::default(),
        };
        assert_eq!(
            mailto(&letter),
            ("mailto:a.b@example.org?subject=Hello".to_string(), true)
        );
        letter.subject = "x".repeat(MAX_LINK);
        assert_eq!(
            mailto(&letter),
            ("mailto:a.b@example.org".to_string(), true)
        );
        letter.body = "é".repeat(300);
        letter.subject = "Hello".into();
        let (url, short) = mailto(&letter);
        assert!(!short && url.len() < MAX_LINK, "{}", url.len());
    }
}
