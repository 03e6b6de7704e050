// The keys of one check kind beyond gossm's (name, ipAddress, port, protocol, checkInterval, timeout).
#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <cstring>
#include <functional>
#include <regex>
#include <set>

#include "config/parse.h"

namespace watchd::config {

namespace {

// A key that takes one integer or an array of them, each in [min, max] ("what": "an exit code"): `take` gets each
// good one; each bad one is an error at its place; an empty array is one too.
void for_each_integer(Obj &o, std::string_view key, std::int64_t min, std::int64_t max, const std::string &what,
                      const std::function<void(std::int64_t)> &take) {
    const json::value *v = o.get(key);
    if (!v) return;
    auto one = [&](const json::value &x, const std::string &ptr) {
        if (!x.is_int64() || x.get_int64() < min || x.get_int64() > max)
            o.ctx().error(ptr, "expected " + what + " " + std::to_string(min) + ".." + std::to_string(max) + ", got " +
                                   quote(x));
        else
            take(x.get_int64());
    };
    if (!v->is_array()) return one(*v, o.at(key));
    if (v->get_array().empty()) o.error(key, "expected at least one, or one value: " + what);
    for (std::size_t i = 0; i < v->get_array().size(); ++i) one(v->get_array()[i], child_pointer(o.at(key), std::to_string(i)));
}

// A numeric IPv4 or IPv6 address (what a name resolves to), not a host name.
bool is_ip_address(const std::string &a) {
    in6_addr buf;
    return ::inet_pton(AF_INET, a.c_str(), &buf) == 1 || ::inet_pton(AF_INET6, a.c_str(), &buf) == 1;
}

// std::regex backtracks and recurses: a long or deeply nested pattern, or a quantified group that holds a quantifier
// ("(a+)+"), could take exponential time or the whole stack on a bad body, inside watchd's loop. Those are refused.
std::string risky_regex(const std::string &re) {
    if (re.size() > 256) return "must be at most 256 bytes, got " + std::to_string(re.size());
    std::vector<bool> quantified_inside; // per open group: does it hold a quantifier?
    std::size_t depth_max = 0;
    for (std::size_t i = 0; i < re.size(); ++i) {
        const char ch = re[i];
        if (ch == '\\') {
            ++i;
            continue;
        }
        if (ch == '(') {
            quantified_inside.push_back(false);
            depth_max = std::max(depth_max, quantified_inside.size());
        } else if (ch == '*' || ch == '+' || ch == '{' || (ch == '?' && i > 0 && re[i - 1] != '(')) {
            if (!quantified_inside.empty()) quantified_inside.back() = true;
        } else if (ch == ')' && !quantified_inside.empty()) {
            const bool inner = quantified_inside.back();
            quantified_inside.pop_back();
            const char next = i + 1 < re.size() ? re[i + 1] : '\0';
            if (inner && (next == '*' || next == '+' || next == '{'))
                return "a repeated group that holds a repetition (\"(a+)+\") can take exponential time; rewrite it";
            if (inner && !quantified_inside.empty()) quantified_inside.back() = true;
        }
    }
    if (depth_max > 8) return "groups nest " + std::to_string(depth_max) + " deep, at most 8";
    return {};
}

// What https and tls checks share: verify the certificate (tlsVerify), warn of its expiry (certExpiryWarningDays).
void parse_certificate(Obj &o, model::CheckSpec &c) {
    if (o.get("tlsVerify")) c.tls_verify = o.boolean("tlsVerify");
    if (auto d = o.integer("certExpiryWarningDays", 0, 3650))
        c.cert_warning = static_cast<base::Usec>(*d) * 86400 * base::kUsecPerSec;
}

// watchd's http/https checks: the request and what its answer must be (camelCase, as gossm's keys).
void parse_http_check(Obj &o, model::CheckSpec &c) {
    bool url_ok = false;
    if (auto u = o.str("url")) {
        // the scheme in any case ("HTTPS://" is one too: RFC 3986 3.1)
        std::string scheme = u->substr(0, std::min(u->size(), c.protocol.size() + 3));
        std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char ch) { return std::tolower(ch); });
        url_ok = scheme == c.protocol + "://";
        if (!url_ok) o.error("url", "must start with " + c.protocol + "://, got " + shown(*u));
        c.url = *u;
    }
    if (auto p = o.str("path")) {
        if (p->empty() || p->front() != '/') o.error("path", "must start with /, got " + shown(*p));
        c.path = *p;
    }
    if (auto m = o.str("method")) {
        if (*m != "GET" && *m != "HEAD" && *m != "POST") o.error("method", "expected GET, HEAD or POST, got " + shown(*m));
        c.method = *m;
    }
    if (const json::value *h = o.get("headers")) {
        if (!h->is_object()) o.error("headers", "expected an object of header names to values, got " + kind_name(*h));
        else
            for (const auto &e : h->get_object()) {
                const std::string name(e.key());
                const bool token = !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char ch) {
                    return std::isalnum(ch) || std::strchr("!#$%&'*+-.^_`|~", ch);
                });
                if (!token || !e.value().is_string() || e.value().get_string().find_first_of("\r\n") != json::string::npos)
                    o.ctx().error(child_pointer(o.at("headers"), name), "expected a header name with a one-line string value");
                else
                    c.headers[name] = e.value().get_string();
            }
    }
    for_each_integer(o, "expectStatus", 100, 599, "an HTTP status",
                     [&](std::int64_t v) { c.expect_status.push_back(static_cast<unsigned>(v)); });
    if (auto b = o.str("bodyContains")) c.body_contains = *b;
    if (auto r = o.str("bodyRegex")) {
        if (const std::string why = risky_regex(*r); !why.empty()) {
            o.error("bodyRegex", why);
        } else {
            try {
                std::regex check(*r, std::regex::ECMAScript);
                c.body_regex = *r;
            } catch (const std::regex_error &e) {
                o.error("bodyRegex", std::string("not a regular expression: ") + e.what());
            }
        }
    }
    if (o.get("followRedirects")) c.follow_redirects = o.boolean("followRedirects");
    if (c.protocol == "https") parse_certificate(o, c);
    else if (o.get("certExpiryWarningDays")) o.error("certExpiryWarningDays", "only an https (or tls) check has a certificate");
    else if (o.get("tlsVerify")) c.tls_verify = o.boolean("tlsVerify"); // for a redirect to https
    if (c.address.empty() && url_ok) { // "https://host:8443/x" → host, 8443
        const std::string rest = c.url.substr(c.protocol.size() + 3);
        std::string authority = rest.substr(0, rest.find_first_of("/?#"));
        // user:password@ (libcurl sends them as basic authentication) is no part of the address /json shows
        if (const auto at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
        const std::size_t colon = authority.rfind(':');
        const bool has_port = colon != std::string::npos && authority.find(']', colon) == std::string::npos;
        c.address = has_port ? authority.substr(0, colon) : authority;
        if (c.address.size() > 2 && c.address.front() == '[') c.address = c.address.substr(1, c.address.size() - 2);
        if (has_port && c.port == 0) {
            const std::string digits = authority.substr(colon + 1);
            if (!digits.empty() && digits.size() <= 5 && digits.find_first_not_of("0123456789") == std::string::npos &&
                std::stoul(digits) >= 1 && std::stoul(digits) <= 65535)
                c.port = static_cast<std::uint16_t>(std::stoul(digits));
            else
                o.error("url", "has no valid port: " + shown(c.url));
        }
        if (c.address.empty()) o.error("url", "has no host: " + shown(c.url));
    }
    if (c.port == 0) c.port = c.protocol == "https" ? 443 : 80;
}

// exec: the command (an absolute path, then its arguments), the user and group it runs as, the exit codes that
// mean up (0 unless expectExit says otherwise).
void parse_exec_check(Obj &o, model::CheckSpec &c) {
    if (auto cmd = o.strings("command")) {
        if (cmd->empty() || cmd->front().empty() || cmd->front().front() != '/')
            o.error("command", "expected the command's absolute path first, then its arguments");
        c.command = *cmd;
    } else if (!o.get("command")) {
        o.error("command", "required for an exec check");
    }
    if (auto u = o.str("user")) c.user = *u;
    if (auto g = o.str("group")) c.group = *g;
    if (o.get("expectExit")) {
        c.expect_exit.clear();
        for_each_integer(o, "expectExit", 0, 255, "an exit code", [&](std::int64_t v) {
            if (std::find(c.expect_exit.begin(), c.expect_exit.end(), v) == c.expect_exit.end())
                c.expect_exit.push_back(static_cast<int>(v));
        });
    }
}

} // namespace

void parse_check_kind(Obj &o, model::CheckSpec &c) {
    if (c.protocol == "tls") {
        if (auto n = o.str("serverName")) c.server_name = *n;
        parse_certificate(o, c);
    }
    if (c.protocol == "dns") {
        if (c.port == 0) c.port = 53; // shown in /json's key; the system's resolver is asked
        const json::value *e = o.get("expectAddress");
        if (e && e->is_string()) {
            if (auto one = o.str("expectAddress")) c.expect_addresses = {*one};
        } else if (auto list = o.strings("expectAddress")) {
            c.expect_addresses = *list;
        }
        for (const auto &a : c.expect_addresses)
            if (!is_ip_address(a)) o.error("expectAddress", "expected IP addresses, got " + shown(a));
    }
    if (auto p = o.str("payload")) { // watchd: the datagram a udp check sends
        if (c.protocol != "udp") o.error("payload", "only a udp check sends a payload");
        else if (p->size() > 1400) o.error("payload", "must be at most 1400 bytes, got " + std::to_string(p->size()));
        c.payload = *p;
    }
    if (c.protocol == "http" || c.protocol == "https") parse_http_check(o, c);
    if (c.protocol == "exec") {
        parse_exec_check(o, c);
        // it runs a command: an address or a port would be ignored, which its author would not expect
        if (!c.address.empty()) o.error("ipAddress", "an exec check runs its command and has no address");
        if (c.port != 0) o.error("port", "an exec check runs its command and has no port");
    }
}

} // namespace watchd::config
