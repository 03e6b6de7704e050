// The one list of notifier kinds: kind name → maker.
#include "notify/kinds.h"

namespace watchd::notify {

namespace {
struct Kind {
    const char *name;
    std::unique_ptr<Notifier> (*make)(Context &, const model::NotifierSpec &, const std::string &);
};
constexpr Kind kKinds[] = {
    {"email", make_email},     {"telegram", make_telegram}, {"slack", make_slack},
    {"pushover", make_pushover}, {"webhook", make_webhook}, {"sms", make_sms},
    {"alertmanager", make_alertmanager},
};
} // namespace

std::unique_ptr<Notifier> make_notifier(Context &ctx, const model::NotifierSpec &spec, unsigned number) {
    for (const Kind &k : kKinds)
        if (spec.kind == k.name) return k.make(ctx, spec, spec.kind + " " + std::to_string(number));
    return nullptr;
}

} // namespace watchd::notify
