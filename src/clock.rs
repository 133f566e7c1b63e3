//! The one place that reads the clock (clippy.toml bans it elsewhere), so that everything else is
//! deterministic: letters are dated by `--date` or `SOURCE_DATE_EPOCH` when given.

/// The current time.
pub fn now() -> jiff::Timestamp {
    #[allow(clippy::disallowed_methods)]
    jiff::Timestamp::now()
}
