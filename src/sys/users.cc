// getpwnam_r/getgrnam_r wrappers.
#include "sys/users.h"

#include <cerrno>
#include <charconv>
#include <grp.h>
#include <pwd.h>

namespace watchd::sys {

namespace {
bool parse_id(const std::string &s, unsigned &out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}
} // namespace

base::Result<Credentials> resolve_credentials(const std::string &user, const std::string &group) {
    Credentials c{};
    std::vector<char> buf(16384);
    passwd pw{}, *pwp = nullptr;
    unsigned num = 0;
    int r = parse_id(user, num) ? getpwuid_r(num, &pw, buf.data(), buf.size(), &pwp)
                                : getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &pwp);
    if (!pwp) {
        if (!parse_id(user, num))
            return base::unexpected(base::Error{r ? std::error_code(r, std::generic_category()) : std::error_code(), "user",
                                                "no such user \"" + user + "\""});
        c.uid = num; // a bare uid without a passwd entry is allowed
        c.gid = num;
    } else {
        c.uid = pwp->pw_uid;
        c.gid = pwp->pw_gid;
        c.home = pwp->pw_dir;
        c.name = pwp->pw_name;
    }
    if (!group.empty()) {
        struct group gr{}, *grp = nullptr;
        r = parse_id(group, num) ? getgrgid_r(num, &gr, buf.data(), buf.size(), &grp)
                                 : getgrnam_r(group.c_str(), &gr, buf.data(), buf.size(), &grp);
        if (grp)
            c.gid = grp->gr_gid;
        else if (parse_id(group, num))
            c.gid = num;
        else
            return base::unexpected(base::Error{r ? std::error_code(r, std::generic_category()) : std::error_code(), "group",
                                                "no such group \"" + group + "\""});
    }
    c.groups.push_back(c.gid);
    if (!c.name.empty()) {
        int n = 64;
        std::vector<gid_t> g(n);
        if (getgrouplist(c.name.c_str(), c.gid, g.data(), &n) < 0) {
            g.resize(n);
            getgrouplist(c.name.c_str(), c.gid, g.data(), &n);
        }
        g.resize(n);
        c.groups = std::move(g);
    }
    return c;
}

} // namespace watchd::sys
