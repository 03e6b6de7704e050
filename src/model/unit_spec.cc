// Derived paths of an app spec, and look-ups in a Config.
#include "model/unit_spec.h"

#include <algorithm>
#include <vector>

namespace watchd::model {

namespace {
// Lexical clean-up like Go's filepath.Clean for absolute paths: no "//", ".", or "..".
std::string clean_path(const std::string &p) {
    std::vector<std::string> parts;
    size_t i = 0;
    while (i <= p.size()) {
        size_t j = p.find('/', i);
        if (j == std::string::npos) j = p.size();
        std::string part = p.substr(i, j - i);
        if (part == "..") {
            if (!parts.empty()) parts.pop_back();
        } else if (!part.empty() && part != ".") {
            parts.push_back(part);
        }
        i = j + 1;
    }
    std::string out;
    for (const auto &part : parts) out += "/" + part;
    return out.empty() ? "/" : out;
}
} // namespace

std::string AppSpec::exec_path() const {
    if (!binary.empty() && binary.front() == '/') return clean_path(binary);
    return clean_path(working_directory + "/" + binary);
}

std::string AppSpec::pid_file() const {
    if (pid_path.empty()) return {};
    if (pid_path.front() == '/') return clean_path(pid_path);
    return clean_path(working_directory + "/" + pid_path);
}

std::string CheckSpec::endpoint() const {
    if (protocol == "exec") return command.empty() ? std::string() : command.front();
    return address + ":" + std::to_string(port);
}

const AppSpec *Config::find_app(const std::string &id) const {
    auto it = std::find_if(apps.begin(), apps.end(), [&](const AppSpec &a) { return a.id == id; });
    return it == apps.end() ? nullptr : &*it;
}

std::string_view method_name(SystemdVerb v) {
    switch (v) {
    case SystemdVerb::Start: return "StartUnit";
    case SystemdVerb::Stop: return "StopUnit";
    case SystemdVerb::Restart: return "RestartUnit";
    case SystemdVerb::TryRestart: return "TryRestartUnit";
    case SystemdVerb::ReloadOrRestart: return "ReloadOrRestartUnit";
    }
    return "";
}

} // namespace watchd::model
