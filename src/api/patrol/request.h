// patrol's API_Request, read as patrol reads it: from a JSON body (POST /api/ and UDP datagrams) with Go's
// encoding/json rules, or from the query string of GET /api/ with Go's net/url rules.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "supervisor/view.h"

namespace watchd::api::patrol {

struct ApiRequest {
    std::string id;                         // as given; patrol lower-cases it when it looks the unit up
    std::string group;                      // "app", "apps", "service", "services" in any case
    bool ping = false;
    std::uint32_t pid = 0;
    std::uint8_t toggle = 0;                // 1..7 are patrol's toggles; other values change nothing
    bool history = false;                   // patrol reads it and ignores it: HTTP always carries history
    std::optional<supervisor::KeyValue> keyvalue; // values as Go would write them back (normalize_value form);
                                                  // nullopt: absent or null (Go's nil map)
    bool keyvalue_replace = false;
    std::string secret;
    std::uint64_t cas = 0;
    bool operator==(const ApiRequest &) const = default;
};

// A JSON body, decoded as Go's json.Unmarshal decodes it into patrol's API_Request: keys matched as Go matches
// struct fields (the exact name first, then case-insensitively, with Go's special folding of K/k to U+212A and
// S/s to U+017F), unknown keys ignored, a key given twice applied twice in order, null leaving a field as it is
// (keyvalue: dropping it), pid/toggle/cas as unsigned integer literals in range (uint32, uint8, uint64), a
// keyvalue given twice merged. nullopt for anything Go refuses: bad syntax, a value of the wrong type, a
// number out of range; and for a top level that is not an object or null. patrol answers those "Invalid Request".
std::optional<ApiRequest> parse_request_json(std::string_view body);

// The query string of GET /api/ (without the '?'), read as patrol reads it (url.Values): id, group, secret (the
// first of each), toggle and cas (strconv.ParseUint: garbage is 0, too large is the largest value, toggle keeps
// its low 8 bits), history (present at all). ping, pid and keyvalue are not read from a GET (a GET never pings, as
// in patrol: a patrol client sending them gets what patrol answers). Pairs with a ';' or a bad %-escape are
// skipped, as Go skips them; '+' is a space.
ApiRequest parse_query(std::string_view query);

// Go's strings.ToLower as far as it matters for matching ASCII names: ASCII letters, and the two non-ASCII
// letters whose lower case is ASCII (U+212A KELVIN SIGN → k, U+0130 → i). Other bytes are kept.
std::string go_lower(std::string_view s);

} // namespace watchd::api::patrol
