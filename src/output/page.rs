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

/// What the HTML page says about the run as a whole.
#[derive(Debug, Clone)]
pub struct PageInfo {
    pub title: String,
    pub group_label: String,
    pub signer: String,
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_html(&mut out, s).ok();
    out
}

fn mailto(letter: &Letter) -> String {
    let body = letter.body.replace("\r\n", "\n").replace('\n', "\r\n");
    format!(
        "mailto:{}?subject={}&body={}",
        utf8_percent_encode(&letter.email, MAILTO)
            .to_string()
            .replace("%40", "@"),
        utf8_percent_encode(&letter.subject, MAILTO),
        utf8_percent_encode(&body, MAILTO),
    )
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
.placeholders {{ order: -1; background: #fff4e5; border: 2px solid #b45309; border-radius: 6px; padding: .75rem 1rem; }}
.placeholder {{ color: #b45309; font-weight: bold; }}
article {{ border: 1px solid #ccc; border-radius: 6px; padding: 1rem 1.5rem; margin: 1.5rem 0; }}
article h2 {{ margin: 0 0 .25rem; font-size: 1.2rem; }}
.address {{ color: #555; font-size: .9rem; }}
.subject {{ font-weight: bold; }}
a.send {{ display: inline-block; background: #1d4ed8; color: #fff; padding: .5rem 1rem; border-radius: 4px; text-decoration: none; }}
</style>
</head>
<body>
<header>
<h1>{title}</h1>
<p>Letters to <strong>{group}</strong>, signed by {signer}. Read each letter, then use its button to open it in your own mail program and send it from there.</p>
</header>
<main>
"#,
        title = esc(&page.title),
        group = esc(&page.group_label),
        signer = esc(&page.signer),
    )
}

/// The end of the page, with a warning when some addresses are placeholders: written last, as
/// only then are they counted, and shown first (the page is a flex column; see its style).
pub fn page_foot(placeholders: u64, letters: u64) -> String {
    let warning = match placeholders {
        0 => String::new(),
        n => format!(
            "<p class=\"placeholders\" role=\"alert\"><strong>Warning:</strong> {}. Ask the campaign for real addresses before sending.</p>\n",
            esc(&placeholders_said(n, letters))
        ),
    };
    format!("</main>\n{warning}</body>\n</html>\n")
}

pub fn html_card(letter: &Letter) -> String {
    let mut body = String::with_capacity(letter.body.len() * 2);
    markdown::to_html(&letter.body, &mut body);
    format!(
        r#"<article id="letter-{index}">
<h2>{name}</h2>
<p class="address">{email}</p>
{warning}<p class="subject" lang="{lang}">{subject}</p>
<div class="letter" lang="{lang}">
{body}</div>
<p><a class="send" href="{mailto}">Open in my mail program</a></p>
</article>
"#,
        index = letter.index,
        name = esc(&letter.name),
        email = esc(&letter.email),
        warning = if is_placeholder_address(&letter.email) {
            "<p class=\"placeholder\">This address is a placeholder on a reserved example domain: a letter to it reaches no one.</p>\n"
        } else {
            ""
        },
        subject = esc(&letter.subject),
        lang = esc(&letter.language),
        mailto = esc(&mailto(letter)),
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
        let url = mailto(&letter);
        assert_eq!(
            url,
            "mailto:a.b@example.org?subject=Hello%20%26%20bye%3F&body=Line%201%0D%0ALine%202"
        );
    }
}
