// User and group look-ups for running apps as another user.
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

#include "base/result.h"

namespace watchd::sys {

struct Credentials {
    uid_t uid;
    gid_t gid;
    std::vector<gid_t> groups; // supplementary groups of the user
    std::string home;
    std::string name;
};

// Resolves user (name or number) and optional group (name or number; default: the user's primary group).
base::Result<Credentials> resolve_credentials(const std::string &user, const std::string &group);

} // namespace watchd::sys
