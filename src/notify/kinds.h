// The notifier kinds, one file each, and the one table that makes them from the config (registry.cc).
#pragma once

#include <memory>
#include <string>

#include "model/unit_spec.h"
#include "notify/http_notifier.h"

namespace watchd::notify {

// Each returns null when the spec cannot send anything (gossm's stub SMS).
std::unique_ptr<Notifier> make_email(Context &ctx, const model::NotifierSpec &s, const std::string &name);
std::unique_ptr<Notifier> make_telegram(Context &ctx, const model::NotifierSpec &s, const std::string &name);
std::unique_ptr<Notifier> make_slack(Context &ctx, const model::NotifierSpec &s, const std::string &name);
std::unique_ptr<Notifier> make_pushover(Context &ctx, const model::NotifierSpec &s, const std::string &name);
std::unique_ptr<Notifier> make_webhook(Context &ctx, const model::NotifierSpec &s, const std::string &name);
std::unique_ptr<Notifier> make_sms(Context &ctx, const model::NotifierSpec &s, const std::string &name);
std::unique_ptr<Notifier> make_alertmanager(Context &ctx, const model::NotifierSpec &s, const std::string &name);

// The notifier of `spec` ("telegram 2": the kind and its number among its kind), or null (see above).
std::unique_ptr<Notifier> make_notifier(Context &ctx, const model::NotifierSpec &spec, unsigned number);

// A field of the spec, or `fallback`.
inline std::string field(const model::NotifierSpec &s, const std::string &key, const std::string &fallback) {
    auto it = s.fields.find(key);
    return it == s.fields.end() || it->second.empty() ? fallback : it->second;
}

} // namespace watchd::notify
