//! How fast letters may leave: providers cap messages per minute or per day, so the run spaces
//! them out evenly, whichever connection carries them (see `sender::Queue`).

use std::fmt;
use std::time::Duration;

/// What `--rate` and the profile's `rate` say, and what an unreadable rate is told.
pub const RATE_HINT: &str =
    "write it as N/PERIOD: 20/min, 50/5min, 500/day, 3/s, or `unlimited` for a local relay";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rate {
    Unlimited,
    Every { count: u32, period: Duration },
}

impl Rate {
    /// `unlimited`, or N/PERIOD as [`RATE_HINT`] says; `None` for anything else.
    pub fn parse(s: &str) -> Option<Rate> {
        let t = s.trim().to_ascii_lowercase();
        if t == "unlimited" {
            return Some(Rate::Unlimited);
        }
        let (n, period) = t.split_once('/')?;
        let count = n.trim().parse().ok().filter(|n| *n > 0)?;
        let period = period.trim();
        let digits = period.bytes().take_while(u8::is_ascii_digit).count();
        let times: u64 = match &period[..digits] {
            "" => 1,
            times => times.parse().ok().filter(|n| *n > 0)?,
        };
        let unit = match period[digits..].trim() {
            "s" | "sec" | "second" | "seconds" => 1,
            "m" | "min" | "minute" | "minutes" => 60,
            "h" | "hour" | "hours" => 3600,
            "d" | "day" | "days" => 86400,
            _ => return None,
        };
        let period = Duration::from_secs(times.checked_mul(unit)?);
        Some(Rate::Every { count, period })
    }

    /// The time between two letters; `None`: no wait.
    pub fn interval(self) -> Option<Duration> {
        match self {
            Rate::Unlimited => None,
            Rate::Every { count, period } => Some(period / count),
        }
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rate::Unlimited => write!(f, "unlimited"),
            Rate::Every { count, period } => {
                let s = period.as_secs();
                let (n, unit) = match s {
                    _ if s % 86400 == 0 => (s / 86400, "day"),
                    _ if s % 3600 == 0 => (s / 3600, "h"),
                    _ if s % 60 == 0 => (s / 60, "min"),
                    _ => (s, "s"),
                };
                if n == 1 {
                    write!(f, "{count}/{unit}")
                } else {
                    write!(f, "{count}/{n}{unit}")
                }
            }
        }
    }
}

/// "45s", "3min 20s", "2h 5min": how long the letters of a run take at its rate.
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}min {}s", s / 60, s % 60),
        _ => format!("{}h {}min", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(Rate::parse("unlimited").unwrap(), Rate::Unlimited);
        let r = Rate::parse("50/5min").unwrap();
        assert_eq!(r.interval(), Some(Duration::from_secs(6)));
        assert_eq!(r.to_string(), "50/5min");
        assert_eq!(Rate::parse("500/day").unwrap().to_string(), "500/day");
        assert_eq!(Rate::parse("20/min").unwrap().to_string(), "20/min");
        assert_eq!(
            Rate::parse("3/s").unwrap().interval(),
            Some(Duration::from_millis(333) + Duration::from_nanos(333_333))
        );
        let bad = ["", "0/min", "5", "5/fortnight", "x/min", "5/0min"];
        for bad in bad.into_iter().chain(["1/99999999999999999day"]) {
            assert!(Rate::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(human(Duration::from_secs(45)), "45s");
        assert_eq!(human(Duration::from_secs(200)), "3min 20s");
        assert_eq!(human(Duration::from_secs(7500)), "2h 5min");
    }
}
