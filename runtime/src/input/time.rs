//! Timestamps and calendar dates as R1 reads them: strict formats, real calendar days only.
//!
//! A timestamp is `YYYY-MM-DDTHH:MM:SS[.fraction](Z or ±HH:MM)`; it becomes milliseconds since
//! 1970-01-01T00:00:00Z, read to the millisecond (further digits are dropped, not rounded, so
//! that every implementation agrees). A date is `YYYY-MM-DD`. Errors say what is wrong in the
//! words a marketer would use ("February 2026 has 28 days"), not in parser terms.

use maclc_compiler::calendar;

/// A calendar date that exists (proleptic Gregorian calendar, years 0000–9999).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(self) -> i64 {
        calendar::days_from_civil(
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.day),
        )
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if calendar::is_leap(i64::from(year)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn digits(bytes: &[u8], at: usize, n: usize) -> Option<u32> {
    let slice = bytes.get(at..at + n)?;
    let mut value = 0u32;
    for &b in slice {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u32::from(b - b'0');
    }
    Some(value)
}

/// Checks the `YYYY-MM-DD` at the start of `bytes`; `Ok(None)` when the shape is wrong, an
/// error text when the shape is right but the day does not exist.
fn date_part(bytes: &[u8]) -> Result<Option<Date>, String> {
    let (Some(year), Some(b'-'), Some(month), Some(b'-'), Some(day)) = (
        digits(bytes, 0, 4),
        bytes.get(4),
        digits(bytes, 5, 2),
        bytes.get(7),
        digits(bytes, 8, 2),
    ) else {
        return Ok(None);
    };
    // Four digits always fit an i32.
    let year = i32::try_from(year).unwrap_or(0);
    if !(1..=12).contains(&month) {
        return Err(format!(
            "month {month:02} does not exist (months go from 01 to 12)"
        ));
    }
    let last = days_in_month(year, month);
    if day == 0 || day > last {
        let name = MONTHS
            .get(month as usize - 1)
            .copied()
            .unwrap_or("that month");
        return Err(format!(
            "{name} {year} has {last} days, so day {day:02} does not exist"
        ));
    }
    Ok(Some(Date { year, month, day }))
}

/// Reads a date `YYYY-MM-DD` naming a real day. The error says why, in plain words.
pub fn parse_date(text: &str) -> Result<Date, String> {
    let bytes = text.as_bytes();
    match date_part(bytes)? {
        Some(date) if bytes.len() == 10 => Ok(date),
        _ => Err("it is not a date written `YYYY-MM-DD`, such as `2026-01-05`".to_string()),
    }
}

const SHAPE: &str = "it is not a date and time written `YYYY-MM-DDTHH:MM:SS`, with an optional fraction of a \
                     second and then `Z` or an offset such as `+02:00` (for example `2026-01-05T09:31:12.345Z`)";

/// Reads a timestamp to milliseconds since the epoch, UTC. The error says why, in plain words.
pub fn parse_timestamp(text: &str) -> Result<i64, String> {
    let b = text.as_bytes();
    let date = match date_part(b)? {
        Some(date) => date,
        None => return Err(SHAPE.to_string()),
    };
    let (Some(b'T'), Some(hour), Some(b':'), Some(minute), Some(b':'), Some(second)) = (
        b.get(10),
        digits(b, 11, 2),
        b.get(13),
        digits(b, 14, 2),
        b.get(16),
        digits(b, 17, 2),
    ) else {
        return Err(SHAPE.to_string());
    };
    let mut pos = 19;
    let mut millis = 0u32;
    if b.get(pos) == Some(&b'.') {
        pos += 1;
        let start = pos;
        while b.get(pos).is_some_and(u8::is_ascii_digit) {
            // Only the first three digits count: the rest are dropped, not rounded.
            if pos - start < 3 {
                millis = millis * 10 + u32::from(b.get(pos).copied().unwrap_or(b'0') - b'0');
            }
            pos += 1;
        }
        let n = pos - start;
        if n == 0 {
            return Err(SHAPE.to_string());
        }
        for _ in n..3 {
            millis *= 10;
        }
    }
    let offset_minutes: i64 = match b.get(pos) {
        Some(b'Z') if b.len() == pos + 1 => 0,
        Some(&sign @ (b'+' | b'-')) if b.len() == pos + 6 => {
            let (Some(oh), Some(b':'), Some(om)) =
                (digits(b, pos + 1, 2), b.get(pos + 3), digits(b, pos + 4, 2))
            else {
                return Err(SHAPE.to_string());
            };
            if oh > 23 || om > 59 {
                return Err(format!(
                    "the offset from UTC is {}{oh:02}:{om:02}, which is not a time of day (hours 00 to 23, minutes 00 to 59)",
                    sign as char
                ));
            }
            let minutes = i64::from(oh * 60 + om);
            if sign == b'-' {
                -minutes
            } else {
                minutes
            }
        }
        _ => return Err(SHAPE.to_string()),
    };
    if hour > 23 {
        return Err(format!(
            "hour {hour:02} does not exist (hours go from 00 to 23)"
        ));
    }
    if minute > 59 {
        return Err(format!(
            "minute {minute:02} does not exist (minutes go from 00 to 59)"
        ));
    }
    if second > 59 {
        return Err(format!(
            "second {second:02} does not exist (seconds go from 00 to 59)"
        ));
    }
    let seconds = date.days_since_epoch() * 86_400 + i64::from(hour * 3600 + minute * 60 + second)
        - offset_minutes * 60;
    Ok(seconds * 1000 + i64::from(millis))
}

/// Formats milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.sssZ` (for messages and tests).
pub fn format_timestamp(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rest = ms.rem_euclid(86_400_000);
    let (year, month, day) = calendar::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3_600_000,
        rest / 60_000 % 60,
        rest / 1000 % 60,
        rest % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_timestamps_to_the_millisecond() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_timestamp("1970-01-01T00:00:00.9999Z"), Ok(999));
        assert_eq!(parse_timestamp("1970-01-01T00:00:00.5Z"), Ok(500));
        assert_eq!(parse_timestamp("1970-01-01T01:00:00+01:00"), Ok(0));
        assert_eq!(parse_timestamp("1969-12-31T23:00:00-01:00"), Ok(0));
        assert_eq!(parse_timestamp("1969-12-31T23:59:59.999Z"), Ok(-1));
        let ms = parse_timestamp("2026-01-05T09:31:12.345Z").unwrap_or(0);
        assert_eq!(format_timestamp(ms), "2026-01-05T09:31:12.345Z");
        assert_eq!(
            parse_timestamp("2024-02-29T12:00:00Z").map(format_timestamp),
            Ok("2024-02-29T12:00:00.000Z".into())
        );
        assert_eq!(
            parse_timestamp("0000-03-01T00:00:00Z").map(format_timestamp),
            Ok("0000-03-01T00:00:00.000Z".into())
        );
    }

    #[test]
    fn rejects_impossible_or_sloppy_timestamps() {
        for bad in [
            "2026-02-29T10:00:00Z",
            "2026-02-30T10:00:00Z",
            "2026-04-31T10:00:00Z",
            "2026-13-01T10:00:00Z",
            "2026-00-01T10:00:00Z",
            "2026-01-00T10:00:00Z",
            "2026-01-05T25:61:00Z",
            "2026-01-05T10:60:00Z",
            "2026-01-05T10:00:60Z",
            "2026-01-05T10:00:00+24:00",
            "2026-01-05T10:00:00+02:60",
            "2026-01-05T10:00:00",
            "2026-01-05T10:00:00.Z",
            "2026-01-05 10:00:00Z",
            "2026-01-05t10:00:00z",
            "2026-01-05T10:00:00+0200",
            "2026-01-05T10:00Z",
            "2026-1-05T10:00:00Z",
            "05/01/2026 09:31:12",
            "not-a-timestamp",
            "",
            "2026-01-05T10:00:00Zjunk",
            "２０２６-01-05T10:00:00Z",
        ] {
            assert!(parse_timestamp(bad).is_err(), "{bad} was accepted");
        }
        assert_eq!(
            parse_timestamp("2026-02-30T10:00:00Z"),
            Err("February 2026 has 28 days, so day 30 does not exist".to_string())
        );
    }

    #[test]
    fn reads_real_dates_only() {
        assert_eq!(
            parse_date("2024-02-29"),
            Ok(Date {
                year: 2024,
                month: 2,
                day: 29
            })
        );
        assert!(parse_date("2026-02-29").is_err());
        assert!(parse_date("1900-02-29").is_err());
        assert!(parse_date("2000-02-29").is_ok());
        assert!(parse_date("2026-02-2").is_err());
        assert!(parse_date("2026-02-28T00:00:00Z").is_err());
        assert_eq!(parse_date("1970-01-02").map(Date::days_since_epoch), Ok(1));
    }
}
