//! How a letter writes its date and labels in its language.

/// The date as written in a letter, e.g. "27 November 2026".
pub fn letter_date(date: &jiff::Zoned) -> String {
    date.strftime("%-d %B %Y").to_string()
}

/// The date as written in a letter in `language`: "27 November 2026", "27 novembre 2026",
/// "27 de noviembre de 2026". Languages without their own form get the English one.
pub fn letter_date_in(date: &jiff::Zoned, language: &str) -> String {
    const FR: &str =
        "janvier février mars avril mai juin juillet août septembre octobre novembre décembre";
    const ES: &str =
        "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre";
    let month = |names: &'static str| {
        let month = date.month() as usize - 1;
        names.split(' ').nth(month).unwrap_or("")
    };
    let (day, year) = (date.day(), date.year());
    match language
        .split('-')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
        .as_str()
    {
        // French writes the first of the month as an ordinal: "1er mars".
        "fr" if day == 1 => format!("1er {} {year}", month(FR)),
        "fr" => format!("{day} {} {year}", month(FR)),
        "es" => format!("{day} de {} de {year}", month(ES)),
        _ => letter_date(date),
    }
}

/// "Subject:" in `language`, as a printed letter labels its subject; English when unknown.
pub fn subject_label(language: &str) -> &'static str {
    match language
        .split('-')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
        .as_str()
    {
        // A no-break space keeps French typography's space before the colon on the line.
        "fr" => "Objet\u{a0}:",
        "es" => "Asunto:",
        "de" => "Betreff:",
        _ => "Subject:",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> jiff::Zoned {
        s.parse::<jiff::civil::Date>()
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .unwrap()
    }

    #[test]
    fn dates_are_written_the_way_each_language_writes_them() {
        let d = day("2026-11-27");
        assert_eq!(letter_date_in(&d, "en"), "27 November 2026");
        assert_eq!(letter_date_in(&d, "fr"), "27 novembre 2026");
        assert_eq!(letter_date_in(&d, "fr-CA"), "27 novembre 2026");
        assert_eq!(letter_date_in(&d, "es"), "27 de noviembre de 2026");
        assert_eq!(letter_date_in(&d, "de"), "27 November 2026");
        assert_eq!(letter_date_in(&day("2026-03-01"), "fr"), "1er mars 2026");
        assert_eq!(
            letter_date_in(&day("2026-01-31"), "es"),
            "31 de enero de 2026"
        );
        assert_eq!(
            letter_date_in(&day("2026-08-01"), "es"),
            "1 de agosto de 2026"
        );
    }
}
