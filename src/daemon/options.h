// Command-line options of watchd (gossm/patrol spirit: -config, -http, -logfilter; GNU long forms too).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sys/log.h"
#include "watchd_config.h"

namespace watchd::daemon {

struct Options {
    std::string config = WATCHD_SYSCONFDIR "/watchd.json";
    std::optional<std::string> check_config; // --check-config FILE: validate and exit
    std::vector<std::string> http;           // --http ADDR (repeatable): overrides http.listen
    std::vector<std::string> udp;            // --udp ADDR (repeatable): overrides udp.listen
    std::string log_filter;
    bool cgroups = true;                     // --cgroups=no: never put apps in cgroups, even when delegated
    int log_level = 6;                       // LOG_INFO
    sys::log::Target log_target = sys::log::Target::Auto;
    bool help = false, version = false;
};

// Parses argv; on error returns a message naming the bad argument.
std::optional<Options> parse_options(int argc, char **argv, std::string &error);
void print_help(const char *argv0);

} // namespace watchd::daemon
