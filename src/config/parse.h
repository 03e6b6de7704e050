// The parsers of each part of the config document (internal to config/).
#pragma once

#include "config/reader.h"
#include "model/unit_spec.h"

namespace watchd::config {

void parse_apps(Obj &root, model::Config &cfg);
void parse_services(Obj &root, model::Config &cfg);
// gossm's "settings" (monitor, notifications) and "servers".
void parse_gossm(Obj &root, model::Config &cfg);
// The keys of one check kind (a server's "protocol"): tls, dns, udp's payload, http/https, exec.
void parse_check_kind(Obj &o, model::CheckSpec &c);
// "restart": {backoff-initial, backoff-max, backoff-reset, start-limit-burst, start-limit-interval} of an app or
// a service.
void parse_restart(Obj &unit, model::RestartPolicy &r);
// Key/value object → key → compact JSON text.
model::KeyValue parse_keyvalue(Obj &o, std::string_view key);
// Home directory for "~/" expansion ($HOME, else the passwd entry).
std::string home_directory();

} // namespace watchd::config
