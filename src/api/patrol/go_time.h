// Go's time.Format: patrol formats every timestamp with `json-timestamp`, a Go layout (the reference time
// "Mon Jan 2 15:04:05 MST 2006" written the way the result should look), RFC 3339 when it is empty.
#pragma once

#include <string>
#include <string_view>

#include "base/time.h"

namespace watchd::api::patrol {

// Go's time.RFC3339: patrol's default, and what its clients parse by default.
inline constexpr std::string_view kRfc3339 = "2006-01-02T15:04:05Z07:00";

// A moment as a calendar shows it in some time zone.
struct CivilTime {
    int year = 1970, month = 1, day = 1; // month 1..12
    int hour = 0, minute = 0, second = 0;
    int nanosecond = 0;
    int weekday = 4;     // 0 = Sunday
    int yday = 1;        // day of the year, 1..366
    int offset = 0;      // seconds east of UTC
    std::string zone;    // the zone's abbreviation ("UTC", "CET", "+03"); may be empty
};

// `realtime` (µs since the epoch) in the local time zone (TZ, /etc/localtime), as Go's time.Local shows it.
CivilTime local_time(base::Usec realtime);

// t formatted with a Go layout, token for token as Go 1.19's Time.Format: 2006 06 / January Jan 1 01 / Monday Mon /
// 2 _2 02 / __2 002 / 15 3 03 / 4 04 / 5 05 / PM pm / MST / -0700 -07:00 -07 -070000 -07:00:00 and their Z forms
// (Z when the offset is 0) / .000 .999 ,000 ,999 (fractions, up to 9 digits); everything else is copied.
std::string format_go_time(const CivilTime &t, std::string_view layout);

// Whether a Go layout shows fractions of a second (.000, .999, ,000, ,999): whether two moments within one second
// can look different.
bool shows_fractions(std::string_view layout);

// A patrol timestamp: `realtime` in local time with `layout` (kRfc3339 when empty). The text is the thread's cache's
// and stays valid until the fourth call after this one: copy it to keep it.
const std::string &format_timestamp(base::Usec realtime, std::string_view layout);

} // namespace watchd::api::patrol
