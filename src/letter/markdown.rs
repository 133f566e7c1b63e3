//! Markdown to HTML for the HTML part and the mailto page. Letters mix a campaigner's template with
//! data from CSV files and volunteers, so nothing from the Markdown becomes live HTML: raw HTML is
//! shown as text, images become their alt text, and only http(s) and mailto links survive.

use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag, TagEnd};

/// The one reading of a letter's Markdown, for the HTML part, the mailto page and the PDF alike:
/// plain CommonMark, so no output shows a mark (such as `~~` strikethrough) another leaves as text.
pub fn parser(markdown: &str) -> Parser<'_> {
    Parser::new_ext(markdown, Options::empty())
}

pub fn to_html(markdown: &str, out: &mut String) {
    let parser = parser(markdown);
    let mut dropped_links: Vec<bool> = Vec::new();
    let events = parser.filter_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::HtmlBlock) | Event::End(TagEnd::HtmlBlock) => None,
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let safe = is_safe_url(&dest_url);
            dropped_links.push(!safe);
            safe.then_some(Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }))
        }
        Event::End(TagEnd::Link) => {
            if dropped_links.pop().unwrap_or(false) {
                None
            } else {
                Some(Event::End(TagEnd::Link))
            }
        }
        other => Some(other),
    });
    html::push_html(out, events);
}

fn is_safe_url(url: &CowStr) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("mailto:")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html(md: &str) -> String {
        let mut s = String::new();
        to_html(md, &mut s);
        s
    }

    #[test]
    fn raw_html_is_shown_as_text() {
        let out = html("Hello <script>alert(1)</script> and\n\n<div onclick=x>block</div>\n");
        assert!(!out.contains("<script>"), "{out}");
        assert!(out.contains("&lt;script&gt;"), "{out}");
        assert!(!out.contains("<div"), "{out}");
    }

    #[test]
    fn dangerous_links_and_images_are_dropped() {
        let out = html("[click](javascript:alert(1)) ![alt text](http://tracker.example/x.png) [ok](https://example.org)");
        assert!(!out.contains("javascript:"), "{out}");
        assert!(!out.contains("<img"), "{out}");
        assert!(out.contains("alt text"), "{out}");
        assert!(out.contains("click"), "{out}");
        assert!(
            out.contains(r#"<a href="https://example.org">ok</a>"#),
            "{out}"
        );
    }

    #[test]
    fn strikethrough_is_left_as_written() {
        let out = html("Please ~~do not~~ act.");
        assert!(out.contains("~~do not~~"), "{out}");
    }

    #[test]
    fn lists_and_emphasis_render() {
        let out = html("Dear *Minister*,\n\n- one\n- two\n");
        assert!(out.contains("<em>Minister</em>"));
        assert!(out.contains("<li>one</li>"));
    }
}
