//! Opening hours as pure functions of a calendar and an instant, so that assignment and SLA
//! timing read a calendar the same way and tests need no database.
use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, TimeZone, Timelike, Utc, Weekday,
};
use chrono_tz::Tz;

/// Minutes in a day; an interval may end at `24:00`.
pub const DAY_MINUTES: u32 = 24 * 60;

/// One weekly opening interval, in minutes after local midnight: `start < end <= 1440`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interval {
    /// Day of the week.
    pub day: Weekday,
    /// First open minute.
    pub start: u32,
    /// First closed minute after `start`.
    pub end: u32,
}

/// A calendar's hours, checked and ready to be read.
#[derive(Clone, Debug)]
pub struct Hours {
    /// Zone the intervals and holidays are read in.
    pub zone: Tz,
    /// Open around the clock (holidays still close it).
    pub always_open: bool,
    /// Weekly intervals.
    pub intervals: Vec<Interval>,
    /// Local dates on which the calendar stays closed all day.
    pub holidays: Vec<NaiveDate>,
}

impl Hours {
    /// The intervals of a day of the week, earliest first.
    fn of_day(&self, day: Weekday) -> Vec<(u32, u32)> {
        if self.always_open {
            return vec![(0, DAY_MINUTES)];
        }
        let mut found: Vec<(u32, u32)> = self
            .intervals
            .iter()
            .filter(|i| i.day == day)
            .map(|i| (i.start, i.end))
            .collect();
        found.sort_unstable();
        found
    }
}

/// Whether the calendar is open at the instant `at`: its local wall-clock time falls in an
/// interval of its weekday and its local date is not a holiday. Daylight-saving changes need no
/// special case: the wall clock of an instant is what the intervals describe.
pub fn is_open(hours: &Hours, at: DateTime<Utc>) -> bool {
    let local = at.with_timezone(&hours.zone);
    if hours.holidays.contains(&local.date_naive()) {
        return false;
    }
    let minute = local.hour() * 60 + local.minute();
    hours
        .of_day(local.weekday())
        .iter()
        .any(|(start, end)| *start <= minute && minute < *end)
}

/// The instant a local date and minute of the day denote. A time skipped by a daylight-saving
/// change means the first minute after the gap; a repeated time means its first occurrence.
fn instant(zone: Tz, date: NaiveDate, minute: u32) -> Option<DateTime<Utc>> {
    let midnight = date.and_hms_opt(0, 0, 0)?;
    // Gaps are at most a few hours; look a little further to step over one.
    for late in 0..=(3 * 60) {
        let wall = midnight + Duration::minutes(i64::from(minute + late));
        match zone.from_local_datetime(&wall) {
            LocalResult::Single(t) => return Some(t.with_timezone(&Utc)),
            LocalResult::Ambiguous(first, _) => return Some(first.with_timezone(&Utc)),
            LocalResult::None => {}
        }
    }
    None
}

/// The first instant at or after `from` when the calendar is open, or `None` when it does not
/// open within a year (e.g. every interval falls on holidays).
pub fn next_open(hours: &Hours, from: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if is_open(hours, from) {
        return Some(from);
    }
    let first_day = from.with_timezone(&hours.zone).date_naive();
    for offset in 0..=(366 + 7) {
        let date = first_day + Duration::days(offset);
        if hours.holidays.contains(&date) {
            continue;
        }
        for (start, _) in hours.of_day(date.weekday()) {
            // An interval that began before `from` and is still running would have made
            // `is_open` true, so only later openings count.
            match instant(hours.zone, date, start) {
                // An interval lying wholly in a skipped hour never opens that day.
                Some(opens) if opens > from && is_open(hours, opens) => return Some(opens),
                _ => {}
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn weekdays(zone: Tz, start: u32, end: u32) -> Hours {
        let days = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ];
        Hours {
            zone,
            always_open: false,
            intervals: days
                .into_iter()
                .map(|day| Interval { day, start, end })
                .collect(),
            holidays: Vec::new(),
        }
    }

    #[test]
    fn office_hours_follow_the_local_clock_across_a_dst_change() {
        // Berlin: 09:00-17:00 on weekdays; summer time starts on Sunday 2026-03-29.
        let hours = weekdays(chrono_tz::Europe::Berlin, 9 * 60, 17 * 60);
        // Friday before: 15:30 UTC is 16:30 CET, open; 16:00 UTC is 17:00 CET, closed.
        assert!(is_open(&hours, at("2026-03-27T15:30:00Z")));
        assert!(!is_open(&hours, at("2026-03-27T16:00:00Z")));
        assert!(!is_open(&hours, at("2026-03-27T07:59:00Z")));
        assert!(is_open(&hours, at("2026-03-27T08:00:00Z")));
        // Monday after: the same UTC time is 17:30 CEST, closed; 07:00 UTC is 09:00 CEST.
        assert!(!is_open(&hours, at("2026-03-30T15:30:00Z")));
        assert!(is_open(&hours, at("2026-03-30T07:00:00Z")));
        assert!(!is_open(&hours, at("2026-03-30T06:59:00Z")));
        // Closed over the weekend; it opens on Monday at 09:00 local, which is 07:00 UTC now.
        assert!(!is_open(&hours, at("2026-03-28T10:00:00Z")));
        assert_eq!(
            next_open(&hours, at("2026-03-27T16:00:00Z")),
            Some(at("2026-03-30T07:00:00Z"))
        );
        // Winter time comes back on Sunday 2026-10-25: Monday 09:00 local is 08:00 UTC again.
        assert_eq!(
            next_open(&hours, at("2026-10-23T20:00:00Z")),
            Some(at("2026-10-26T08:00:00Z"))
        );
    }

    #[test]
    fn an_interval_starting_in_the_skipped_hour_opens_when_the_clock_resumes() {
        let hours = Hours {
            zone: chrono_tz::Europe::Berlin,
            always_open: false,
            intervals: vec![Interval {
                day: Weekday::Sun,
                start: 2 * 60 + 30,
                end: 5 * 60,
            }],
            holidays: Vec::new(),
        };
        // On 2026-03-29 local time jumps from 02:00 to 03:00 (01:00 UTC).
        assert_eq!(
            next_open(&hours, at("2026-03-28T12:00:00Z")),
            Some(at("2026-03-29T01:00:00Z"))
        );
        assert!(is_open(&hours, at("2026-03-29T01:00:00Z")));
        assert!(!is_open(&hours, at("2026-03-29T03:00:00Z")));
    }

    #[test]
    fn holidays_close_a_day_in_the_calendars_own_zone() {
        let mut hours = weekdays(chrono_tz::Europe::Berlin, 9 * 60, 17 * 60);
        hours
            .holidays
            .push(NaiveDate::from_ymd_opt(2026, 12, 25).unwrap());
        // Christmas Day is a Friday: closed; Thursday before and Monday after are open.
        assert!(!is_open(&hours, at("2026-12-25T10:00:00Z")));
        assert!(is_open(&hours, at("2026-12-24T10:00:00Z")));
        assert_eq!(
            next_open(&hours, at("2026-12-25T10:00:00Z")),
            Some(at("2026-12-28T08:00:00Z"))
        );
    }

    #[test]
    fn round_the_clock_is_a_calendar_too_and_late_shifts_reach_midnight() {
        let always = Hours {
            zone: chrono_tz::UTC,
            always_open: true,
            intervals: Vec::new(),
            holidays: vec![NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()],
        };
        assert!(is_open(&always, at("2026-06-14T03:00:00Z")));
        assert!(!is_open(&always, at("2026-01-01T12:00:00Z")));
        assert_eq!(
            next_open(&always, at("2026-01-01T12:00:00Z")),
            Some(at("2026-01-02T00:00:00Z"))
        );
        // Several intervals a day, the last one ending at 24:00.
        let split = Hours {
            zone: chrono_tz::America::Sao_Paulo,
            always_open: false,
            intervals: vec![
                Interval {
                    day: Weekday::Mon,
                    start: 6 * 60,
                    end: 12 * 60,
                },
                Interval {
                    day: Weekday::Mon,
                    start: 18 * 60,
                    end: DAY_MINUTES,
                },
            ],
            holidays: Vec::new(),
        };
        // São Paulo is UTC-3: Monday 2026-06-15 23:59 local is Tuesday 02:59 UTC.
        assert!(is_open(&split, at("2026-06-16T02:59:00Z")));
        assert!(!is_open(&split, at("2026-06-16T03:00:00Z")));
        assert!(!is_open(&split, at("2026-06-15T16:00:00Z")));
        assert_eq!(
            next_open(&split, at("2026-06-15T16:00:00Z")),
            Some(at("2026-06-15T21:00:00Z"))
        );
    }

    #[test]
    fn a_calendar_that_never_opens_has_no_next_opening() {
        let never = Hours {
            zone: chrono_tz::UTC,
            always_open: false,
            intervals: Vec::new(),
            holidays: Vec::new(),
        };
        assert!(!is_open(&never, at("2026-06-14T03:00:00Z")));
        assert_eq!(next_open(&never, at("2026-06-14T03:00:00Z")), None);
    }
}
