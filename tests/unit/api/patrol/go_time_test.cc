// json-timestamp: Go layouts applied as Go 1.19's Time.Format applies them. The expected texts are Go's own for
// Go's reference time, 2006-01-02 15:04:05.123456 MST (-0700), seen in three zones.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <string>

#include "api/patrol/go_time.h"

namespace watchd::api::patrol {
namespace {

constexpr base::Usec kReference = 1136239445123456; // 2006-01-02T22:04:05.123456Z

// The zone of the whole test process, set for one test and put back afterwards.
class ZoneTest : public ::testing::Test {
protected:
    void zone(const char *tz) {
        ::setenv("TZ", tz, 1);
        ::tzset();
    }
    void TearDown() override {
        ::unsetenv("TZ");
        ::tzset();
    }
};

struct Case {
    const char *layout;
    const char *phoenix, *utc, *kolkata;
};
const Case kCases[] = {
    {"2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05-07:00", "2006-01-02T22:04:05Z", "2006-01-03T03:34:05+05:30"},
    {"Mon, 02 Jan 2006 15:04:05 -0700", "Mon, 02 Jan 2006 15:04:05 -0700", "Mon, 02 Jan 2006 22:04:05 +0000",
     "Tue, 03 Jan 2006 03:34:05 +0530"},
    {"Mon Jan _2 15:04:05 MST 2006", "Mon Jan  2 15:04:05 MST 2006", "Mon Jan  2 22:04:05 UTC 2006",
     "Tue Jan  3 03:34:05 IST 2006"},
    {"Monday, 02-Jan-06 15:04:05 MST", "Monday, 02-Jan-06 15:04:05 MST", "Monday, 02-Jan-06 22:04:05 UTC",
     "Tuesday, 03-Jan-06 03:34:05 IST"},
    {"January 2, 2006 3:04:05.000 PM", "January 2, 2006 3:04:05.123 PM", "January 2, 2006 10:04:05.123 PM",
     "January 3, 2006 3:34:05.123 AM"},
    {"2006-01-02 15:04:05.999999999 -07:00", "2006-01-02 15:04:05.123456 -07:00",
     "2006-01-02 22:04:05.123456 +00:00", "2006-01-03 03:34:05.123456 +05:30"},
    {"2006-01-02T15:04:05.999Z0700", "2006-01-02T15:04:05.123-0700", "2006-01-02T22:04:05.123Z",
     "2006-01-03T03:34:05.123+0530"},
    {"3:4:5 pm .0 ,000000 ,999", "3:4:5 pm .1 ,123456 ,123", "10:4:5 pm .1 ,123456 ,123",
     "3:34:5 am .1 ,123456 ,123"},
    {"__2 002 Z07 -07 Z070000 -07:00:00", "  2 002 -07 -07 -070000 -07:00:00", "  2 002 Z +00 Z +00:00:00",
     "  3 003 +05 +05 +053000 +05:30:00"},
    // Not tokens: "Jan"/"Mon" followed by a lower-case letter; "_2006" is "_" and the year.
    {"Jann Mond Janvier Monday2006_2006 1 15 06", "Jann Mond Janvier Monday2006_2006 1 15 06",
     "Jann Mond Janvier Monday2006_2006 1 22 06", "Jann Mond Janvier Tuesday2006_2006 1 03 06"},
};

TEST_F(ZoneTest, LayoutsInThreeZones) {
    for (const auto &c : kCases) {
        zone("America/Phoenix");
        EXPECT_EQ(format_timestamp(kReference, c.layout), c.phoenix) << c.layout;
        zone("UTC");
        EXPECT_EQ(format_timestamp(kReference, c.layout), c.utc) << c.layout;
        zone("Asia/Kolkata");
        EXPECT_EQ(format_timestamp(kReference, c.layout), c.kolkata) << c.layout;
    }
}

TEST_F(ZoneTest, EmptyLayoutIsRfc3339InSeconds) {
    zone("UTC");
    EXPECT_EQ(format_timestamp(kReference, ""), "2006-01-02T22:04:05Z");
    zone("Europe/Berlin");
    EXPECT_EQ(format_timestamp(kReference, ""), "2006-01-02T23:04:05+01:00");
    EXPECT_EQ(format_timestamp(1151787845000000, ""), "2006-07-01T23:04:05+02:00"); // summer time
}

TEST_F(ZoneTest, ManyMomentsInTurnEachGetTheirOwnFields) {
    // More moments than local_time keeps, asked for in turn twice, each a second and a day apart: every answer is
    // the one strftime gives for that moment, not a neighbour's.
    zone("Asia/Kolkata");
    for (int round = 0; round < 2; ++round) {
        for (int k = 0; k < 9; ++k) {
            const base::Usec t = kReference + static_cast<base::Usec>(k) * (86400 + 1) * base::kUsecPerSec + k;
            const time_t secs = static_cast<time_t>(t / base::kUsecPerSec);
            struct tm tm {};
            localtime_r(&secs, &tm);
            char want[64];
            std::strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S+05:30 %a %Z", &tm);
            EXPECT_EQ(format_timestamp(t, "2006-01-02T15:04:05Z07:00 Mon MST"), want) << round << " " << k;
            EXPECT_EQ(format_timestamp(t, ".000000"), "." + std::to_string(123456 + k)) << k;
        }
    }
}

TEST_F(ZoneTest, ALayoutInWholeSecondsShowsEveryMomentOfASecondAlike) {
    // The cache keys a whole-seconds layout by the second: every microsecond of it shows the same text, the next
    // second its own, and a layout with fractions still tells the microseconds apart.
    zone("UTC");
    const base::Usec second = kReference - kReference % base::kUsecPerSec;
    const struct {
        base::Usec us;
        const char *micro, *milli; // .000000, and ,999 (Go drops its trailing zeros)
    } moments[] = {{0, "22:04:05.000000", "22:04:05"},
                   {1, "22:04:05.000001", "22:04:05"},
                   {500000, "22:04:05.500000", "22:04:05,5"},
                   {999999, "22:04:05.999999", "22:04:05,999"}};
    for (const auto &m : moments) {
        EXPECT_EQ(format_timestamp(second + m.us, ""), "2006-01-02T22:04:05Z") << m.us;
        EXPECT_EQ(format_timestamp(second + m.us, "15:04:05.000000"), m.micro) << m.us;
        EXPECT_EQ(format_timestamp(second + m.us, "15:04:05,999"), m.milli) << m.us;
    }
    EXPECT_EQ(format_timestamp(second + base::kUsecPerSec, ""), "2006-01-02T22:04:06Z");
    EXPECT_EQ(format_timestamp(second - 1, ""), "2006-01-02T22:04:04Z");
    EXPECT_FALSE(shows_fractions(""));
    EXPECT_FALSE(shows_fractions(std::string(kRfc3339)));
    EXPECT_TRUE(shows_fractions("2006-01-02T15:04:05.999999999Z07:00"));
    EXPECT_TRUE(shows_fractions("05,000"));
    EXPECT_FALSE(shows_fractions("05.x000")); // not a fraction to Go: copied as text
}

TEST(GoTime, CivilTimeFields) {
    CivilTime t;
    t.year = 987;
    t.month = 11;
    t.day = 9;
    t.hour = 0;
    t.minute = 7;
    t.second = 8;
    t.nanosecond = 50;
    t.weekday = 5; // a Friday, as Go's proleptic calendar has it
    t.yday = 313;
    t.offset = -(3 * 3600 + 30 * 60);
    t.zone = "";
    EXPECT_EQ(format_go_time(t, "2006 06 Jan January 1 01 Mon Monday"), "0987 87 Nov November 11 11 Fri Friday");
    EXPECT_EQ(format_go_time(t, "3 03 15 PM 4 04 5 05"), "12 12 00 AM 7 07 8 08");
    EXPECT_EQ(format_go_time(t, ".000000000 .999999999 .99 .000"), ".000000050 .00000005  .000");
    // No abbreviation: MST is written as the offset. (These expectations are Go's for time.FixedZone("", -12600).)
    EXPECT_EQ(format_go_time(t, "MST Z07:00 -0700 Z07"), "-0330 -03:30 -0330 -03");
    EXPECT_EQ(format_go_time(t, "__2 002"), "313 313");
    EXPECT_EQ(format_go_time(t, "<\"&\">"), "<\"&\">"); // literal text is copied; the JSON writer escapes it
}

} // namespace
} // namespace watchd::api::patrol
