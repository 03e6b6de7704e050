// Object paths of units: sd-bus's label escaping, and parsing that names exactly one unit per path.
#include <gtest/gtest.h>

#include "api/dbus/paths.h"

namespace watchd::api::dbus {
namespace {

using supervisor::UnitKind;
using supervisor::UnitRef;

TEST(UnitPath, EscapesIdsAsSystemdDoes) {
    EXPECT_EQ(unit_path({UnitKind::App, "web"}), "/org/watchd1/app/web");
    EXPECT_EQ(unit_path({UnitKind::Service, "ssh"}), "/org/watchd1/service/ssh");
    EXPECT_EQ(unit_path({UnitKind::Check, "db"}), "/org/watchd1/check/db");
    // every byte other than [A-Za-z0-9] becomes _xx, as does a leading digit; the empty id is "_"
    EXPECT_EQ(unit_path({UnitKind::App, "my-app"}), "/org/watchd1/app/my_2dapp");
    EXPECT_EQ(unit_path({UnitKind::App, "a.b_c"}), "/org/watchd1/app/a_2eb_5fc");
    EXPECT_EQ(unit_path({UnitKind::App, "1web"}), "/org/watchd1/app/_31web");
    EXPECT_EQ(unit_path({UnitKind::App, "web1"}), "/org/watchd1/app/web1");
    EXPECT_EQ(unit_path({UnitKind::App, ""}), "/org/watchd1/app/_");
    EXPECT_EQ(unit_path({UnitKind::App, "caf\xc3\xa9"}), "/org/watchd1/app/caf_c3_a9");
}

TEST(UnitPath, ParsesBackEveryEscapedId) {
    for (const char *id : {"web", "my-app", "a.b_c", "1web", "", "caf\xc3\xa9", "x/y", "_"})
        for (UnitKind k : {UnitKind::App, UnitKind::Service, UnitKind::Check}) {
            const UnitRef ref{k, id};
            EXPECT_EQ(parse_unit_path(unit_path(ref)), ref) << unit_path(ref);
        }
}

TEST(UnitPath, RefusesWhatNamesNoUnit) {
    EXPECT_EQ(parse_unit_path("/org/watchd1"), std::nullopt);
    EXPECT_EQ(parse_unit_path("/org/watchd1/app"), std::nullopt);
    EXPECT_EQ(parse_unit_path("/org/watchd1/app/"), std::nullopt);
    EXPECT_EQ(parse_unit_path("/org/watchd1/app/web/more"), std::nullopt);
    EXPECT_EQ(parse_unit_path("/org/watchd1/apps/web"), std::nullopt);
    EXPECT_EQ(parse_unit_path("/org/watchd1/application/web"), std::nullopt);
    EXPECT_EQ(parse_unit_path("/org/freedesktop/systemd1/unit/web"), std::nullopt);
    // one path per unit: an escape where none is needed is not another name of "web"
    EXPECT_EQ(parse_unit_path("/org/watchd1/app/_77eb"), std::nullopt);
}

TEST(UnitInterface, OnePerKind) {
    EXPECT_EQ(unit_interface(UnitKind::App), "org.watchd1.App");
    EXPECT_EQ(unit_interface(UnitKind::Service), "org.watchd1.Service");
    EXPECT_EQ(unit_interface(UnitKind::Check), "org.watchd1.Check");
    EXPECT_EQ(unit_prefix(UnitKind::Service), "/org/watchd1/service");
}

} // namespace
} // namespace watchd::api::dbus
