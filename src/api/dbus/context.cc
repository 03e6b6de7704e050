// What every method of the bus service shares: the root check, command submission and its errors, lookups.
#include "api/dbus/context.h"

#include <syslog.h>

#include "api/dbus/paths.h"

namespace watchd::api::dbus {

std::optional<UnitObject> Context::object(const supervisor::UnitRef &ref) const {
    auto v = views.unit(ref, false);
    if (!v) return std::nullopt;
    UnitObject o{std::move(*v), {}};
    if (hooks.extras && ref.kind == supervisor::UnitKind::App) o.log_directory = hooks.extras(ref).log_directory;
    return o;
}

std::map<supervisor::UnitRef, UnitObject> Context::objects() const {
    std::map<supervisor::UnitRef, UnitObject> out;
    for (auto &v : views.view(false).units) {
        UnitObject o{std::move(v), {}};
        if (hooks.extras && o.view.ref.kind == supervisor::UnitKind::App)
            o.log_directory = hooks.extras(o.view.ref).log_directory;
        const supervisor::UnitRef ref = o.view.ref;
        out.emplace(ref, std::move(o));
    }
    return out;
}

const Counts &Context::counts() {
    if (!counts_valid_) {
        counts_ = count_units(views.view(false));
        counts_valid_ = true;
    }
    return counts_;
}

int require_root(sd_bus_message *m, sd_bus_error *error, const std::string &what, pid_t *pid) {
    sd_bus_creds *raw = nullptr;
    int r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_PID, &raw);
    BusCredsPtr creds(raw);
    if (r < 0) return r;
    if (pid && sd_bus_creds_get_pid(creds.get(), pid) < 0) *pid = 0;
    uid_t euid = 1;
    // Only what the bus daemon vouches for counts: an EUID "augmented" from /proc could belong to a new process
    // that reused the sender's PID.
    if ((sd_bus_creds_get_augmented_mask(creds.get()) & SD_BUS_CREDS_EUID) == 0 &&
        sd_bus_creds_get_euid(creds.get(), &euid) >= 0 && euid == 0)
        return 1;
    return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED, "only root may call %s", what.c_str());
}

int no_such_unit(sd_bus_error *error, const supervisor::UnitRef &ref) {
    return sd_bus_error_setf(error, kErrorNoSuchUnit, "no such %s: \"%s\"",
                             std::string(model::to_string(ref.kind)).c_str(), ref.id.c_str());
}

int submit_and_reply(Context &ctx, sd_bus_message *m, const supervisor::UnitRef &ref, supervisor::Command cmd,
                     const std::string &what, sd_bus_error *error) {
    pid_t pid = 0;
    if (int r = require_root(m, error, what, &pid); r <= 0) return r;
    // root on the system bus owns the configuration, secrets included: the command is authenticated without
    // the secret ever leaving the core.
    cmd.authenticate = [](std::string_view) { return true; };
    const supervisor::CommandResult res = ctx.commands.submit(ref, cmd);
    switch (res.error) {
    case supervisor::CommandError::None: break;
    case supervisor::CommandError::UnknownUnit: return no_such_unit(error, ref);
    case supervisor::CommandError::ShuttingDown:
        return sd_bus_error_set(error, kErrorShuttingDown, "watchd is stopping: units cannot be changed any more");
    case supervisor::CommandError::SecretInvalid:
        return sd_bus_error_set(error, kErrorSecretInvalid, "the unit's secret did not match");
    default:
        return sd_bus_error_setf(error, kErrorFailed, "%s",
                                 std::string(supervisor::describe(res.error, ref.kind)).c_str());
    }
    if (ctx.hooks.log)
        ctx.hooks.log(LOG_INFO, model::to_string(ref) + ": " + what + " called over D-Bus by root" +
                                    (pid > 0 ? " (pid " + std::to_string(pid) + ")" : std::string()));
    return sd_bus_reply_method_return(m, nullptr);
}

} // namespace watchd::api::dbus
