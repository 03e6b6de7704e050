// Go's layout-based time formatting (time/format.go: nextStdChunk and AppendFormat), so that `json-timestamp`
// means in watchd exactly what it meant in patrol.
#include "api/patrol/go_time.h"

#include <array>
#include <ctime>

namespace watchd::api::patrol {

namespace {

enum class Std {
    None, LongMonth, Month, NumMonth, ZeroMonth, LongWeekDay, WeekDay, Day, UnderDay, ZeroDay, UnderYearDay,
    ZeroYearDay, Hour, Hour12, ZeroHour12, Minute, ZeroMinute, Second, ZeroSecond, LongYear, Year, PM, pm, TZ,
    ISO8601TZ, ISO8601SecondsTZ, ISO8601ShortTZ, ISO8601ColonTZ, ISO8601ColonSecondsTZ, NumTZ, NumSecondsTz,
    NumShortTZ, NumColonTZ, NumColonSecondsTZ, FracSecond0, FracSecond9,
};

// One token found in a layout: the literal text before it, what it is, and where the rest starts.
struct Chunk {
    std::string_view prefix;
    Std std = Std::None;
    std::string_view suffix;
    std::size_t digits = 0; // fractions: how many
    char separator = '.';   // fractions: '.' or ','
};

bool starts_lower(std::string_view s) { return !s.empty() && s[0] >= 'a' && s[0] <= 'z'; }
bool is_digit(std::string_view s, std::size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; }

// Go's nextStdChunk: the first token of the layout (the order of the tests matters and is Go's).
Chunk next_chunk(std::string_view l) {
    auto at = [&](std::size_t i, std::string_view word) { return l.substr(i, word.size()) == word; };
    auto cut = [&](std::size_t i, Std s, std::size_t len) { return Chunk{l.substr(0, i), s, l.substr(i + len)}; };
    for (std::size_t i = 0; i < l.size(); ++i) {
        switch (l[i]) {
        case 'J':
            if (at(i, "Jan")) {
                if (at(i, "January")) return cut(i, Std::LongMonth, 7);
                if (!starts_lower(l.substr(i + 3))) return cut(i, Std::Month, 3);
            }
            break;
        case 'M':
            if (at(i, "Mon")) {
                if (at(i, "Monday")) return cut(i, Std::LongWeekDay, 6);
                if (!starts_lower(l.substr(i + 3))) return cut(i, Std::WeekDay, 3);
            }
            if (at(i, "MST")) return cut(i, Std::TZ, 3);
            break;
        case '0':
            if (i + 1 < l.size() && l[i + 1] >= '1' && l[i + 1] <= '6') {
                static constexpr Std zero_x[] = {Std::ZeroMonth, Std::ZeroDay, Std::ZeroHour12,
                                                 Std::ZeroMinute, Std::ZeroSecond, Std::Year};
                return cut(i, zero_x[l[i + 1] - '1'], 2);
            }
            if (at(i, "002")) return cut(i, Std::ZeroYearDay, 3);
            break;
        case '1':
            if (at(i, "15")) return cut(i, Std::Hour, 2);
            return cut(i, Std::NumMonth, 1);
        case '2':
            if (at(i, "2006")) return cut(i, Std::LongYear, 4);
            return cut(i, Std::Day, 1);
        case '_':
            if (at(i, "_2")) {
                if (at(i, "_2006")) return Chunk{l.substr(0, i + 1), Std::LongYear, l.substr(i + 5)}; // "_" + year
                return cut(i, Std::UnderDay, 2);
            }
            if (at(i, "__2")) return cut(i, Std::UnderYearDay, 3);
            break;
        case '3': return cut(i, Std::Hour12, 1);
        case '4': return cut(i, Std::Minute, 1);
        case '5': return cut(i, Std::Second, 1);
        case 'P':
            if (at(i, "PM")) return cut(i, Std::PM, 2);
            break;
        case 'p':
            if (at(i, "pm")) return cut(i, Std::pm, 2);
            break;
        case '-':
            if (at(i, "-070000")) return cut(i, Std::NumSecondsTz, 7);
            if (at(i, "-07:00:00")) return cut(i, Std::NumColonSecondsTZ, 9);
            if (at(i, "-0700")) return cut(i, Std::NumTZ, 5);
            if (at(i, "-07:00")) return cut(i, Std::NumColonTZ, 6);
            if (at(i, "-07")) return cut(i, Std::NumShortTZ, 3);
            break;
        case 'Z':
            if (at(i, "Z070000")) return cut(i, Std::ISO8601SecondsTZ, 7);
            if (at(i, "Z07:00:00")) return cut(i, Std::ISO8601ColonSecondsTZ, 9);
            if (at(i, "Z0700")) return cut(i, Std::ISO8601TZ, 5);
            if (at(i, "Z07:00")) return cut(i, Std::ISO8601ColonTZ, 6);
            if (at(i, "Z07")) return cut(i, Std::ISO8601ShortTZ, 3);
            break;
        case '.': case ',': // .000 / .999: fractional seconds, only when no other digit follows the run
            if (i + 1 < l.size() && (l[i + 1] == '0' || l[i + 1] == '9')) {
                const char ch = l[i + 1];
                std::size_t j = i + 1;
                while (j < l.size() && l[j] == ch) ++j;
                if (!is_digit(l, j)) {
                    Chunk c{l.substr(0, i), ch == '0' ? Std::FracSecond0 : Std::FracSecond9, l.substr(j)};
                    c.digits = (j - (i + 1)) & 0xfff;
                    c.separator = l[i];
                    return c;
                }
            }
            break;
        }
    }
    return Chunk{l, Std::None, {}};
}

// Go's appendInt: x in decimal, zero-padded to width.
void append_int(std::string &b, long long x, int width) {
    char digits[24];
    int n = 0;
    unsigned long long u = x < 0 ? 0ULL - static_cast<unsigned long long>(x) : static_cast<unsigned long long>(x);
    do {
        digits[n++] = static_cast<char>('0' + u % 10);
        u /= 10;
    } while (u);
    if (x < 0) b += '-';
    if (n < width) b.append(static_cast<std::size_t>(width - n), '0');
    while (n) b += digits[--n];
}

void append_zone(std::string &b, Std s, int offset) {
    const bool iso = s == Std::ISO8601TZ || s == Std::ISO8601ColonTZ || s == Std::ISO8601SecondsTZ ||
                     s == Std::ISO8601ShortTZ || s == Std::ISO8601ColonSecondsTZ;
    if (offset == 0 && iso) {
        b += 'Z';
        return;
    }
    int zone = offset / 60, abs_offset = offset; // minutes, as Go truncates them
    if (zone < 0) {
        b += '-';
        zone = -zone;
        abs_offset = -abs_offset;
    } else {
        b += '+';
    }
    append_int(b, zone / 60, 2);
    const bool colon = s == Std::ISO8601ColonTZ || s == Std::NumColonTZ || s == Std::ISO8601ColonSecondsTZ ||
                       s == Std::NumColonSecondsTZ;
    if (colon) b += ':';
    if (s != Std::NumShortTZ && s != Std::ISO8601ShortTZ) append_int(b, zone % 60, 2);
    if (s == Std::ISO8601SecondsTZ || s == Std::NumSecondsTz || s == Std::NumColonSecondsTZ ||
        s == Std::ISO8601ColonSecondsTZ) {
        if (colon) b += ':';
        append_int(b, abs_offset % 60, 2);
    }
}

// Go's formatNano: n digits of the fraction (at most 9); the 9 form drops trailing zeros, and the separator too
// when nothing is left.
void append_fraction(std::string &b, const Chunk &c, int nanosecond) {
    char buf[9];
    for (int k = 8, u = nanosecond; k >= 0; --k, u /= 10) buf[k] = static_cast<char>('0' + u % 10);
    std::size_t n = c.digits > 9 ? 9 : c.digits;
    if (c.std == Std::FracSecond9) {
        while (n > 0 && buf[n - 1] == '0') --n;
        if (n == 0) return;
    }
    b += c.separator;
    b.append(buf, n);
}

// The zone tzset() last set, as far as the caches below need to tell zones apart: its names and its offset.
struct ZoneKey {
    const char *std_name = nullptr, *dst_name = nullptr;
    long offset = 0;
    static ZoneKey current() { return ZoneKey{::tzname[0], ::tzname[1], ::timezone}; }
    bool operator==(const ZoneKey &) const = default;
};

constexpr const char *kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                   "July",    "August",   "September", "October", "November", "December"};
constexpr const char *kDays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};

} // namespace

CivilTime local_time(base::Usec realtime) {
    // A reply formats a few moments (the start, the last ping, now) again and again: the calendar fields of the last
    // few seconds asked for are kept, for the zone tzset() last set (a new tzset() with another zone misses the
    // cache; localtime_r itself does not look at TZ again).
    struct Cached {
        time_t secs = 0;
        bool valid = false;
        ZoneKey zone;
        CivilTime t;
    };
    thread_local std::array<Cached, 4> cache;
    thread_local unsigned next = 0;
    const ZoneKey zone = ZoneKey::current();
    const time_t secs = static_cast<time_t>(realtime / base::kUsecPerSec);
    const int nanosecond = static_cast<int>(realtime % base::kUsecPerSec) * 1000;
    for (const Cached &c : cache) {
        if (c.valid && c.secs == secs && c.zone == zone) {
            CivilTime t = c.t;
            t.nanosecond = nanosecond;
            return t;
        }
    }
    struct tm tm {};
    localtime_r(&secs, &tm);
    CivilTime t;
    t.year = tm.tm_year + 1900;
    t.month = tm.tm_mon + 1;
    t.day = tm.tm_mday;
    t.hour = tm.tm_hour;
    t.minute = tm.tm_min;
    t.second = tm.tm_sec;
    t.nanosecond = nanosecond;
    t.weekday = tm.tm_wday;
    t.yday = tm.tm_yday + 1;
    t.offset = static_cast<int>(tm.tm_gmtoff);
    t.zone = tm.tm_zone ? tm.tm_zone : "";
    cache[next] = Cached{secs, true, zone, t};
    next = (next + 1) % cache.size();
    return t;
}

std::string format_go_time(const CivilTime &t, std::string_view layout) {
    std::string b;
    const int month = t.month >= 1 && t.month <= 12 ? t.month : 1;
    const int weekday = t.weekday >= 0 && t.weekday <= 6 ? t.weekday : 0;
    while (!layout.empty()) {
        const Chunk c = next_chunk(layout);
        b += c.prefix;
        if (c.std == Std::None) break;
        layout = c.suffix;
        const int hr12 = t.hour % 12 == 0 ? 12 : t.hour % 12; // noon is 12PM, midnight 12AM
        switch (c.std) {
        case Std::Year: append_int(b, (t.year < 0 ? -t.year : t.year) % 100, 2); break;
        case Std::LongYear: append_int(b, t.year, 4); break;
        case Std::Month: b.append(kMonths[month - 1], 3); break;
        case Std::LongMonth: b += kMonths[month - 1]; break;
        case Std::NumMonth: append_int(b, t.month, 0); break;
        case Std::ZeroMonth: append_int(b, t.month, 2); break;
        case Std::WeekDay: b.append(kDays[weekday], 3); break;
        case Std::LongWeekDay: b += kDays[weekday]; break;
        case Std::Day: append_int(b, t.day, 0); break;
        case Std::UnderDay:
            if (t.day < 10) b += ' ';
            append_int(b, t.day, 0);
            break;
        case Std::ZeroDay: append_int(b, t.day, 2); break;
        case Std::UnderYearDay:
            if (t.yday < 100) b += t.yday < 10 ? "  " : " ";
            append_int(b, t.yday, 0);
            break;
        case Std::ZeroYearDay: append_int(b, t.yday, 3); break;
        case Std::Hour: append_int(b, t.hour, 2); break;
        case Std::Hour12: append_int(b, hr12, 0); break;
        case Std::ZeroHour12: append_int(b, hr12, 2); break;
        case Std::Minute: append_int(b, t.minute, 0); break;
        case Std::ZeroMinute: append_int(b, t.minute, 2); break;
        case Std::Second: append_int(b, t.second, 0); break;
        case Std::ZeroSecond: append_int(b, t.second, 2); break;
        case Std::PM: b += t.hour >= 12 ? "PM" : "AM"; break;
        case Std::pm: b += t.hour >= 12 ? "pm" : "am"; break;
        case Std::TZ:
            if (!t.zone.empty()) {
                b += t.zone;
            } else { // no abbreviation known: Go writes the offset as -0700
                const int zone = t.offset / 60 < 0 ? -(t.offset / 60) : t.offset / 60;
                b += t.offset / 60 < 0 ? '-' : '+';
                append_int(b, zone / 60, 2);
                append_int(b, zone % 60, 2);
            }
            break;
        case Std::FracSecond0: case Std::FracSecond9: append_fraction(b, c, t.nanosecond); break;
        default: append_zone(b, c.std, t.offset);
        }
    }
    return b;
}

bool shows_fractions(std::string_view layout) {
    while (!layout.empty()) {
        const Chunk c = next_chunk(layout);
        if (c.std == Std::None) return false;
        if (c.std == Std::FracSecond0 || c.std == Std::FracSecond9) return true;
        layout = c.suffix;
    }
    return false;
}

const std::string &format_timestamp(base::Usec realtime, std::string_view layout) {
    if (layout.empty()) layout = kRfc3339;
    // The same texts come back reply after reply: an instance's start, and a last ping that moves every reply but,
    // with a layout of whole seconds (the default), shows the same second for a whole second. The last few texts
    // are kept, keyed by what the layout shows (the second, or the microsecond with fractions) and the zone, as
    // local_time keys it.
    struct Layout {
        std::string text;
        bool fractions = false;
    };
    thread_local Layout last_layout{std::string(kRfc3339), false};
    if (layout != last_layout.text) last_layout = Layout{std::string(layout), shows_fractions(layout)};
    const base::Usec shown = last_layout.fractions ? realtime : realtime - realtime % base::kUsecPerSec;
    struct Cached {
        base::Usec shown = 0;
        ZoneKey zone;
        std::string layout, text;
    };
    thread_local std::array<Cached, 4> cache;
    thread_local unsigned next = 0;
    const ZoneKey zone = ZoneKey::current();
    for (const Cached &c : cache)
        if (!c.text.empty() && c.shown == shown && c.zone == zone && c.layout == layout) return c.text;
    Cached &c = cache[next];
    next = (next + 1) % cache.size();
    c.shown = shown;
    c.zone = zone;
    c.layout.assign(layout);
    c.text = format_go_time(local_time(realtime), layout);
    return c.text;
}

} // namespace watchd::api::patrol
