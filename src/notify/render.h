// Alert → the texts people read: a subject, a one-line summary and a body that say what, where, since when and
// the error, naming a check's server as gossm does ("<name> (<protocol> <address>:<port>)"). Pure: golden-tested.
#pragma once

#include <string>

#include "model/alert.h"

namespace watchd::notify {

struct Texts {
    std::string subject; // "watchd: check web is down"
    std::string line;    // one line for chat: "DOWN: web (tcp 10.0.0.1:80) not reached: connection refused"
    std::string body;    // the line, then since when, when, and which watchd
};

// host: the machine watchd runs on (named in the body).
Texts render(const model::Alert &a, const std::string &host);

} // namespace watchd::notify
