//! RFC 3339 times (`2024-04-05T07:06:51Z`, `2024-04-05T09:06:51.5+02:00`)
//! to seconds since 1970, here rather than from a date library: the crate
//! goes into components and the alert reader needs only this.

/// Seconds since 1970 of an RFC 3339 date-time (`T` or `t`, `Z`, `z` or a
/// `±HH:MM` offset, optional fraction, which is dropped); `None` when the
/// text is not one, or names a day or time that does not exist. Leap
/// seconds (`:60`) are not accepted.
pub fn unix_seconds(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |at: usize, len: usize| -> Option<i64> {
        let digits = b.get(at..at + len)?;
        digits
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| digits.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
    };
    let sep = |at: usize, ok: &[u8]| b.get(at).is_some_and(|c| ok.contains(c));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut rest = &b[19..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let digits = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        rest = &fraction[digits..];
    }
    let offset = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let two = |a: &u8, b: &u8| {
                (a.is_ascii_digit() && b.is_ascii_digit())
                    .then(|| i64::from(a - b'0') * 10 + i64::from(b - b'0'))
            };
            let (h, m) = (two(h1, h2)?, two(m1, m2)?);
            if h > 23 || m > 59 {
                return None;
            }
            let seconds = h * 3600 + m * 60;
            if *sign == b'-' {
                -seconds
            } else {
                seconds
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`: years counted from March, so the leap day is last).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::unix_seconds;

    #[test]
    fn times_and_offsets() {
        // Expected values from `date -u -d ... +%s`.
        let cases = [
            ("1970-01-01T00:00:00Z", 0),
            ("2024-04-05T07:06:51Z", 1_712_300_811),
            ("2024-04-05t07:06:51z", 1_712_300_811),
            ("2024-04-05T09:06:51.123+02:00", 1_712_300_811),
            ("2024-04-04T23:36:51-07:30", 1_712_300_811),
            ("2000-02-29T12:00:00Z", 951_825_600),
            ("1969-12-31T23:59:59Z", -1),
            ("2100-03-01T00:00:00Z", 4_107_542_400),
        ];
        for (text, seconds) in cases {
            assert_eq!(unix_seconds(text), Some(seconds), "{text}");
        }
    }

    #[test]
    fn what_is_not_a_time() {
        for text in [
            "",
            "yesterday",
            "2024-04-05",
            "2024-04-05 07:06:51Z",
            "2024-04-05T07:06:51",
            "2024-04-05T07:06:51.Z",
            "2024-02-30T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-04-05T24:00:00Z",
            "2024-04-05T23:59:60Z",
            "2024-04-05T07:06:51+2:00",
            "2024-04-05T07:06:51+24:00",
            "2024-04-05T07:06:51Zjunk",
            "+024-04-05T07:06:51Z",
        ] {
            assert_eq!(unix_seconds(text), None, "{text}");
        }
    }
}
