//! Letters mix a campaigner's template with CSV data and a volunteer's note: none of that may
//! become live HTML in the e-mail's HTML part or on the mailto: page.

use crate::util::{self, Sandbox, CSV_FILE};

const NOTE: &str = "Please look: <img src=x onerror=alert(1)> and [click me](javascript:alert(1)) \
and <a href=\"javascript:alert(2)\">this</a>.\n\n<script>alert(3)</script>\n\n![pic](http://tracker.example/pixel.png)\n";

fn hostile_campaign() -> Sandbox {
    let sb = Sandbox::campaign();
    sb.write(
        CSV_FILE,
        "name,email,organization,country,role\n\
         \"<b onmouseover=alert(4)>Alice</b>\",alice@corp-one.example,<script>alert(1)</script>,France,boss\n",
    );
    sb.write("note.md", NOTE);
    sb
}

/// Every real tag in `html`, lowercased.
fn tags(html: &str) -> Vec<String> {
    util::tags(html)
        .into_iter()
        .map(str::to_lowercase)
        .collect()
}

/// The tags letterdrive itself writes; anything else came from the input and is live.
const KNOWN_TAGS: &[&str] = &[
    "!doctype",
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "header",
    "main",
    "article",
    "div",
    "h1",
    "h2",
    "p",
    "strong",
    "em",
    "ul",
    "ol",
    "li",
    "a",
    "br",
    "code",
    "pre",
    "blockquote",
    "del",
    "hr",
    "nav",
    "button",
    "label",
    "input",
];

/// The page without its one script, which must be the static one every page has, whole and
/// placed last, with no campaign text in it.
fn without_script(page: &str) -> String {
    let block = format!(
        "<script>\n{}</script>\n</body>\n</html>\n",
        letterdrive::output::page::SCRIPT
    );
    assert_eq!(
        page.matches("<script>").count(),
        1,
        "one script only:\n{page}"
    );
    let rest = page
        .strip_suffix(&block)
        .expect("the static script ends the page");
    format!("{rest}</body>\n</html>\n")
}

/// No tag, event-handler attribute or script URL from the hostile input is live in `html`.
fn assert_inert(where_: &str, html: &str) {
    for tag in tags(html) {
        let name = tag
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or("");
        assert!(
            KNOWN_TAGS.contains(&name),
            "{where_}: live tag `<{tag}>`:\n{html}"
        );
        let attrs = tag.split_whitespace().skip(1);
        for attr in attrs {
            assert!(
                !attr.starts_with("on"),
                "{where_}: event handler in `<{tag}>`:\n{html}"
            );
        }
        if let Some(pos) = tag.find("href=") {
            let url = tag[pos + 5..].trim_start_matches(['"', '\'']);
            assert!(
                url.starts_with("mailto:")
                    || url.starts_with("#letter-")
                    || url.starts_with("https://")
                    || url.starts_with("http://"),
                "{where_}: unsafe link in `<{tag}>`:\n{html}"
            );
        }
        assert!(
            !tag.contains("src="),
            "{where_}: `<{tag}>` loads something:\n{html}"
        );
    }
    // escaped text is fine, and expected: the reader still sees what was written
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{where_}: escaped organization missing:\n{html}"
    );
    assert!(
        html.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{where_}:\n{html}"
    );
}

#[test]
fn eml_html_part_has_no_live_html_from_csv_or_note() {
    let sb = hostile_campaign();
    sb.render("test", "eml", "out")
        .args(["--note", "note.md"])
        .run()
        .success();
    let files = sb.files("out");
    let msg = util::parse_mail(&sb.read_bytes(&format!("out/{}", files[0])));
    let (text, html) = util::alternative_parts(&msg);
    assert_inert("eml text/html part", &html);
    // the link text survives without its dangerous target
    assert!(html.contains("click me"), "{html}");
    // the plain-text part is the volunteer's Markdown as written
    assert!(text.contains("<script>alert(1)</script>"));
    // the subject header carries the value as text; the HTML <title> escapes it
    assert_eq!(msg.subject(), Some("Letter to <script>alert(1)</script>"));
}

#[test]
fn html_page_has_no_live_html_from_csv_or_note() {
    let sb = hostile_campaign();
    sb.render("test", "html", "out")
        .args(["--note", "note.md"])
        .run()
        .success();
    let page = without_script(&sb.read("out/test.html"));
    assert_inert("html page", &page);
    assert!(
        page.contains("&lt;b onmouseover=alert(4)&gt;Alice&lt;/b&gt;"),
        "{page}"
    );
    // the only links on the page are the mailto: buttons and the index's links to the letters
    for href in util::hrefs(&page) {
        assert!(
            href.starts_with("mailto:") || href == "#letter-1",
            "unexpected link {href}"
        );
    }
}

#[test]
fn hostile_signer_and_campaign_text_are_escaped_on_the_page() {
    let sb = Sandbox::campaign();
    sb.write(
        "campaign.toml",
        util::CAMPAIGN_TOML.replace(
            "title = \"A test statement\"",
            "title = \"A <script>alert(5)</script> statement\"",
        ),
    );
    sb.cmd()
        .args(["render", "-g", "test", "-f", "html", "-o", "out"])
        .args(["--signer-name", "<img src=x onerror=alert(6)>"])
        .args(["--signer-email", util::SIGNER_EMAIL, "--date", util::DATE])
        .run()
        .success();
    let page = without_script(&sb.read("out/test.html"));
    for tag in tags(&page) {
        assert!(
            !tag.starts_with("script") && !tag.starts_with("img"),
            "live `<{tag}>`:\n{page}"
        );
    }
    assert!(page.contains("A &lt;script&gt;alert(5)&lt;/script&gt; statement"));
}
