// Which unit a command-line name means.
#include <gtest/gtest.h>

#include "tools/units.h"

namespace watchd::tools {
namespace {

std::vector<UnitInfo> units() {
    std::vector<UnitInfo> v(4);
    v[0].kind = "app", v[0].id = "web";
    v[1].kind = "app", v[1].id = "worker";
    v[2].kind = "service", v[2].id = "web";
    v[3].kind = "check", v[3].id = "db";
    return v;
}

const UnitInfo *find(std::string_view name, std::string *error = nullptr, bool *unknown = nullptr) {
    static const auto all = units();
    std::string e;
    bool u = false;
    const UnitInfo *r = resolve(all, name, e, u);
    if (error) *error = e;
    if (unknown) *unknown = u;
    return r;
}

TEST(Resolve, KindSlashIdOrABareId) {
    EXPECT_EQ(display_name(*find("app/web")), "app/web");
    EXPECT_EQ(display_name(*find("service/web")), "service/web");
    EXPECT_EQ(display_name(*find("services/web")), "service/web");
    EXPECT_EQ(display_name(*find("worker")), "app/worker");
    EXPECT_EQ(display_name(*find("db")), "check/db");
}

TEST(Resolve, UnknownAmbiguousMalformed) {
    std::string e;
    bool unknown = false;
    EXPECT_EQ(find("nope", &e, &unknown), nullptr);
    EXPECT_TRUE(unknown);
    EXPECT_EQ(e, "no such unit: nope");
    EXPECT_EQ(find("check/web", &e, &unknown), nullptr);
    EXPECT_TRUE(unknown);
    EXPECT_EQ(find("web", &e, &unknown), nullptr);
    EXPECT_FALSE(unknown);
    EXPECT_EQ(e, "\"web\" is ambiguous: app/web, service/web; name one as kind/id");
    EXPECT_EQ(find("daemon/web", &e, &unknown), nullptr);
    EXPECT_FALSE(unknown);
    EXPECT_EQ(e, "\"daemon/web\": unknown kind \"daemon\" (app, service or check)");
    EXPECT_EQ(find("app/", &e, &unknown), nullptr);
    EXPECT_FALSE(unknown);
}

} // namespace
} // namespace watchd::tools
