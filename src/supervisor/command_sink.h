// Commands: the only way the API layers change a unit. patrol's API semantics: toggles, ping (+pid), key/value,
// an optional CAS, the secret, and the unit's state from before the command as the answer.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

#include "supervisor/view.h"

namespace watchd::supervisor {

struct Command {
    std::optional<Toggle> toggle;        // patrol's toggles 1..7
    std::optional<KeyValue> keyvalue;    // merged key by key (null values kept), or replacing with keyvalue_replace
    bool keyvalue_replace = false;
    bool ping = false;                   // an http/udp keepalive ping
    pid_t pid = 0;                       // with a ping: the app's PID (watched from then on)
    enum class Via { Any, Http, Udp } via = Via::Any; // the endpoint a ping came through (an http app pings HTTP)
    std::uint64_t cas = 0;               // 0: none; otherwise nothing but the ping applies unless it matches
    std::string secret;                  // empty: none given
    // Instead of `secret` (a signed UDP ping proves it knows the secret without sending it): when set, called with
    // the unit's secret if it has one; true authenticates the command as the right secret would, false is
    // SecretInvalid. Not called for a unit without a secret (nothing to prove). The secret never leaves the core.
    std::function<bool(std::string_view secret)> authenticate;
    bool history = false;                // include the history in the returned view
};

enum class CommandError {
    None,
    UnknownUnit,         // no such unit
    SecretInvalid,       // the unit has a secret and the command gave another one
    PingNotSupported,    // a ping to a unit that is not an http/udp app
    PidNotSupported,     // a PID for a unit that is not an http/udp app
    PidRequiresPing,     // a PID without a ping
    InvalidPingEndpoint, // an http app pinged over UDP or the reverse
    ShuttingDown,        // watchd is stopping: no toggles any more
};

// patrol's error texts ("Unknown App", "Secret Invalid", ...); UnknownUnit names the kind.
std::string_view describe(CommandError e, UnitKind kind);

struct CommandResult {
    CommandError error = CommandError::None;
    std::optional<UnitView> before; // the unit as it was before the command (none on error)
    bool cas_invalid = false;       // a CAS mismatch (or a missing secret) kept the command from changing anything
                                    // but the ping
    bool ok() const { return error == CommandError::None; }
};

class CommandSink {
public:
    // Validates the command as patrol does, takes the snapshot, then applies it through the unit's state machine.
    virtual CommandResult submit(const UnitRef &ref, const Command &cmd) = 0;

protected:
    ~CommandSink() = default;
};

} // namespace watchd::supervisor
