//! `report.html`: one self-contained page that reads on a phone. Charts are SVG drawn by
//! plotters; every text from the campaign or a ledger is escaped, so none of it becomes markup.

use std::fmt::Write as _;

use plotters::prelude::*;
use pulldown_cmark_escape::escape_html;

use super::report::{rate, Report};

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:60rem;\
padding:1rem;line-height:1.4}table{border-collapse:collapse;width:100%}th,td{padding:.3rem .5rem;\
border-bottom:1px solid #ddd;text-align:left}td.n,th.n{text-align:right}.wide{overflow-x:auto}\
svg{max-width:100%;height:auto}";

/// The page, whole.
pub fn html(report: &Report) -> String {
    let mut page = String::with_capacity(64 * 1024);
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    let _ = write!(
        page,
        "<title>Report: {}</title><style>{STYLE}</style></head>\n<body>\n",
        esc(&report.title)
    );
    let _ = writeln!(page, "<h1>{}</h1>", esc(&report.title));
    let letters: u64 = report.targets.iter().map(|t| t.letters).sum();
    let replies: u64 = report.targets.iter().map(|t| t.replies).sum();
    let _ = writeln!(
        page,
        "<p>Campaign <code>{}</code>: {letters} letters sent by {} volunteers to {} targets; {replies} replies.</p>",
        esc(&report.campaign),
        report.volunteers,
        report.targets.len(),
    );
    groups(&mut page, report);
    days(&mut page, report);
    targets(&mut page, report);
    bounced(&mut page, report);
    page.push_str("</body></html>\n");
    page
}

fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let _ = escape_html(&mut out, text);
    out
}

fn groups(page: &mut String, report: &Report) {
    let groups = report.groups();
    page.push_str("<h2>Per group</h2>\n");
    let bars: Vec<(String, u64)> = groups.iter().map(|(g, c)| (g.to_string(), c[0])).collect();
    page.push_str(&bar_chart(&bars, "letters sent"));
    page.push_str("<div class=\"wide\"><table><tr><th>group</th><th class=\"n\">letters</th><th class=\"n\">replies</th><th class=\"n\">bounces</th><th class=\"n\">targets</th><th class=\"n\">with no letter</th></tr>\n");
    for (g, c) in &groups {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(g), c[0], c[1], c[2], c[3], c[4]
        );
    }
    page.push_str("</table></div>\n");
}

fn days(page: &mut String, report: &Report) {
    page.push_str("<h2>Per day</h2>\n");
    if report.days.is_empty() {
        page.push_str("<p>No letter sent yet.</p>\n");
        return;
    }
    let bars: Vec<(String, u64)> = report
        .days
        .iter()
        .map(|(day, groups)| (date(*day), groups.values().sum()))
        .collect();
    page.push_str(&bar_chart(&bars, "letters sent"));
}

/// `YYYY-MM-DD` of a day counted since 1970.
fn date(day: i64) -> String {
    let t = jiff::Timestamp::from_second(day * 86_400).unwrap_or_default();
    t.strftime("%Y-%m-%d").to_string()
}

fn targets(page: &mut String, report: &Report) {
    page.push_str("<h2>Targets, fewest letters first</h2>\n<div class=\"wide\"><table><tr><th>group</th><th>name</th><th class=\"n\">letters</th><th class=\"n\">volunteers</th><th class=\"n\">replies</th><th class=\"n\">response rate</th><th class=\"n\">auto-replies</th><th class=\"n\">bounces</th></tr>\n");
    for t in report.fewest_first() {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&t.group),
            esc(&t.name),
            t.letters,
            t.volunteers,
            t.replies,
            rate(t.replies, t.letters),
            t.auto_replies,
            t.bounces
        );
    }
    page.push_str("</table></div>\n");
}

/// The targets whose letters bounced, with their addresses, so the lists can be fixed.
fn bounced(page: &mut String, report: &Report) {
    let bounced = report.bounced();
    if bounced.is_empty() {
        return;
    }
    page.push_str("<h2>Bounced: fix these addresses in the lists</h2>\n<div class=\"wide\"><table><tr><th>group</th><th>name</th><th>address</th><th class=\"n\">bounces</th><th>status</th></tr>\n");
    for t in bounced {
        let codes: Vec<&str> = t.bounce_codes.iter().map(String::as_str).collect();
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            esc(&t.group),
            esc(&t.name),
            esc(t.email.as_deref().unwrap_or("(not in the lists)")),
            t.bounces,
            esc(&codes.join(" "))
        );
    }
    page.push_str("</table></div>\n");
}

/// A bar per label, as an inline SVG (plotters escapes the labels it writes).
fn bar_chart(bars: &[(String, u64)], what: &str) -> String {
    let mut svg = String::new();
    match draw_bars(&mut svg, bars, what) {
        Ok(()) => svg,
        Err(e) => format!("<p>(chart not drawn: {})</p>", esc(&e.to_string())),
    }
}

fn draw_bars(
    svg: &mut String,
    bars: &[(String, u64)],
    what: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let top = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1) as f64 * 1.1;
    let width = (120 + 60 * bars.len()).clamp(320, 960) as u32;
    let root = SVGBackend::with_string(svg, (width, 300)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d((0..bars.len()).into_segmented(), 0f64..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(bars.len().min(12))
        .x_label_formatter(&|x| match x {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                bars.get(*i).map(|b| b.0.clone()).unwrap_or_default()
            }
            SegmentValue::Last => String::new(),
        })
        .y_desc(what)
        .draw()?;
    let rects = bars.iter().enumerate().map(|(i, (_, v))| {
        let corners = [
            (SegmentValue::Exact(i), 0.0),
            (SegmentValue::Exact(i + 1), *v as f64),
        ];
        let mut bar = Rectangle::new(corners, BLUE.mix(0.7).filled());
        bar.set_margin(0, 0, 6, 6);
        bar
    });
    chart.draw_series(rects)?;
    root.present()?;
    Ok(())
}
