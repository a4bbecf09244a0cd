//! The audit log's timestamps (`2026-01-05T10:00:00.123456Z`, RFC 3339 as Go writes
//! `metav1.MicroTime`) to Unix seconds, without allocating: the reader looks at the time of
//! every event, so this runs once per line of the log.

/// Seconds since the Unix epoch of an RFC 3339 timestamp (`T` or a space between date and
/// time, any fraction, `Z` or a `±HH:MM` offset); `None` when `text` does not start with one.
pub fn parse_rfc3339(text: &[u8]) -> Option<i64> {
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.iter().try_fold(0i64, |n, &b| {
            b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0'))
        })
    };
    let at = |i: usize, want: &[u8]| text.get(i).is_some_and(|b| want.contains(b));
    if !(at(4, b"-") && at(7, b"-") && at(10, b"Tt ") && at(13, b":") && at(16, b":")) {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    // Leap seconds (:60) are allowed by RFC 3339; they count as the next second.
    if second > 60 {
        return None;
    }
    let mut i = 19;
    if at(i, b".") {
        i += 1;
        while text.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    let offset = match text.get(i) {
        Some(b'Z' | b'z') => 0,
        Some(sign @ (b'+' | b'-')) => {
            if !at(i + 3, b":") {
                return None;
            }
            let minutes = digits(i + 1..i + 3)? * 60 + digits(i + 4..i + 6)?;
            if *sign == b'+' {
                minutes * 60
            } else {
                -minutes * 60
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `seconds` as kubectl-cicd writes times (`2026-01-05T10:00:00Z`).
pub fn format(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds)
        .map(crate::timestamp::rfc3339)
        .unwrap_or_else(|_| format!("{seconds} s after 1970"))
}

/// A duration in words people read at a glance: `3 min`, `5 h 20 min`, `12 days 4 h`.
pub fn span_words(seconds: i64) -> String {
    let s = seconds.max(0);
    let (days, hours, minutes) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    match (days, hours) {
        (0, 0) if minutes == 0 => format!("{s} s"),
        (0, 0) => format!("{minutes} min"),
        (0, h) => format!("{h} h {minutes} min"),
        (1, h) => format!("1 day {h} h"),
        (d, h) => format!("{d} days {h} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn kube_apiserver_timestamps_parse() {
        assert_eq!(parse_rfc3339(b"1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339(b"2026-01-05T10:00:00.123456Z\",\"stageTimestamp\""),
            Some(1_767_607_200)
        );
        assert_eq!(
            parse_rfc3339(b"2026-01-05T12:00:00+02:00"),
            Some(1_767_607_200)
        );
        assert_eq!(
            parse_rfc3339(b"2026-01-05 09:30:00-00:30"),
            Some(1_767_607_200)
        );
        for bad in [
            &b""[..],
            b"2026-01-05",
            b"2026-13-05T10:00:00Z",
            b"2026-01-05T10:00:00",
            b"2026-01-05T10:00:00+0200",
            b"20x6-01-05T10:00:00Z",
            b"not a time at all, no",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn spans_read_at_a_glance() {
        assert_eq!(span_words(42), "42 s");
        assert_eq!(span_words(180), "3 min");
        assert_eq!(span_words(5 * 3600 + 20 * 60), "5 h 20 min");
        assert_eq!(span_words(86_400 + 3600), "1 day 1 h");
        assert_eq!(span_words(12 * 86_400 + 4 * 3600), "12 days 4 h");
        assert_eq!(format(1_767_607_200), "2026-01-05T10:00:00Z");
    }

    proptest! {
        /// The same seconds as jiff reads, for any time Go writes.
        #[test]
        fn agrees_with_jiff(seconds in -62_000_000_000i64..250_000_000_000, micros in 0u32..1_000_000) {
            let t = jiff::Timestamp::from_second(seconds).unwrap();
            let text = format!("{}.{micros:06}Z", t.strftime("%Y-%m-%dT%H:%M:%S"));
            prop_assume!(text.len() == 27);
            prop_assert_eq!(parse_rfc3339(text.as_bytes()), Some(seconds), "{}", text);
        }
    }
}
