//! Calendar dates (UTC) for suppression expiry, and RFC 3339 timestamps for reports. Small and
//! dependency-free: emrguard needs days, not time zones.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// A day of the proleptic Gregorian calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u8) -> u8 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// A valid date, or `None`.
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        if (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month) {
            Some(Date { year, month, day })
        } else {
            None
        }
    }

    /// Strict `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Result<Date, String> {
        let bad = || format!("`{s}` is not a date; write it as YYYY-MM-DD, e.g. 2026-06-30");
        let b = s.as_bytes();
        if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
            return Err(bad());
        }
        let num = |r: std::ops::Range<usize>| -> Result<u32, String> {
            let part = s.get(r).ok_or_else(bad)?;
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            part.parse::<u32>().map_err(|_| bad())
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let y = i32::try_from(y).map_err(|_| bad())?;
        let m = u8::try_from(m).map_err(|_| bad())?;
        let d = u8::try_from(d).map_err(|_| bad())?;
        Date::new(y, m, d).ok_or_else(|| format!("`{s}` is not a day of the calendar"))
    }

    /// The date `days` days after 1970-01-01 (negative: before).
    pub fn from_unix_days(days: i64) -> Date {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let y = yoe + era * 400;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = if m <= 2 { y + 1 } else { y };
        Date {
            year: i32::try_from(y).unwrap_or(i32::MAX),
            month: u8::try_from(m).unwrap_or(1),
            day: u8::try_from(d).unwrap_or(1),
        }
    }

    /// Days since 1970-01-01.
    pub fn unix_days(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let m = i64::from(self.month);
        let d = i64::from(self.day);
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let mp = if m > 2 { m - 3 } else { m + 9 };
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// Today in UTC, from the system clock.
    pub fn today() -> Date {
        Date::from_unix_days(unix_now().div_euclid(86_400))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Accepts `"2026-06-30"` (a string) or `2026-06-30` (a TOML local date).
impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        use serde::de::Error;
        match toml::Value::deserialize(d)? {
            toml::Value::String(s) => Date::parse(&s).map_err(D::Error::custom),
            toml::Value::Datetime(dt) => match (dt.date, dt.time) {
                (Some(date), None) => Date::new(i32::from(date.year), date.month, date.day)
                    .ok_or_else(|| {
                        D::Error::custom(format!("`{dt}` is not a day of the calendar"))
                    }),
                _ => Err(D::Error::custom(format!(
                    "`{dt}` is not a date; write it as YYYY-MM-DD, without a time"
                ))),
            },
            other => Err(D::Error::custom(format!(
                "expected a date (YYYY-MM-DD), found {}",
                other.type_str()
            ))),
        }
    }
}

/// Seconds since the Unix epoch, from the system clock (0 if the clock is before 1970).
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `2026-06-30T12:00:00Z` for a Unix time.
pub fn rfc3339_utc(secs: i64) -> String {
    let date = Date::from_unix_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{date}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Checks an RFC 3339 timestamp (`2026-06-30T12:00:00Z`, fractions and offsets allowed) and
/// returns it unchanged.
pub fn check_rfc3339(s: &str) -> Result<&str, String> {
    let bad = || format!("`{s}` is not an RFC 3339 timestamp such as 2026-06-30T12:00:00Z");
    let date = s.get(..10).ok_or_else(bad)?;
    Date::parse(date).map_err(|_| bad())?;
    let rest = s.get(10..).ok_or_else(bad)?;
    let rest = rest
        .strip_prefix('T')
        .or_else(|| rest.strip_prefix('t'))
        .ok_or_else(bad)?;
    let time = rest.get(..8).ok_or_else(bad)?;
    let t = time.as_bytes();
    let two = |i: usize, max: u8| -> bool {
        match (t.get(i), t.get(i + 1)) {
            (Some(a), Some(b)) if a.is_ascii_digit() && b.is_ascii_digit() => {
                (a - b'0') * 10 + (b - b'0') <= max
            }
            _ => false,
        }
    };
    if !(two(0, 23)
        && t.get(2) == Some(&b':')
        && two(3, 59)
        && t.get(5) == Some(&b':')
        && two(6, 60))
    {
        return Err(bad());
    }
    let mut tail = rest.get(8..).ok_or_else(bad)?;
    if let Some(frac) = tail.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        tail = frac.get(digits..).ok_or_else(bad)?;
    }
    let ok_offset = match tail {
        "Z" | "z" => true,
        o => {
            let b = o.as_bytes();
            b.len() == 6
                && matches!(b.first(), Some(b'+' | b'-'))
                && b.get(3) == Some(&b':')
                && [1usize, 2, 4, 5]
                    .iter()
                    .all(|&i| b.get(i).is_some_and(u8::is_ascii_digit))
        }
    };
    if ok_offset {
        Ok(s)
    } else {
        Err(bad())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parse_and_print() {
        let d = Date::parse("2024-02-29").unwrap();
        assert_eq!(d.to_string(), "2024-02-29");
        assert!(Date::parse("2023-02-29").is_err());
        assert!(Date::parse("2023-2-01").is_err());
        assert!(Date::parse("2023-13-01").is_err());
        assert!(Date::parse("+023-01-01").is_err());
        assert!(Date::parse("").is_err());
    }

    #[test]
    fn days_round_trip() {
        assert_eq!(Date::from_unix_days(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_unix_days(19_782).to_string(), "2024-02-29");
        for days in [-800_000i64, -1, 0, 1, 59, 365, 11_016, 20_000, 2_932_896] {
            assert_eq!(Date::from_unix_days(days).unix_days(), days, "{days}");
        }
    }

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(1_709_208_000), "2024-02-29T12:00:00Z");
        assert!(check_rfc3339("2024-02-29T12:00:00Z").is_ok());
        assert!(check_rfc3339("2024-02-29T12:00:00.123+02:00").is_ok());
        assert!(check_rfc3339("2024-02-29 12:00:00Z").is_err());
        assert!(check_rfc3339("2024-02-29T25:00:00Z").is_err());
        assert!(check_rfc3339("2024-02-29T12:00:00").is_err());
    }
}
