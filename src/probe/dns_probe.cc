// dns probes: the target name resolves (the system's resolver, off the loop), and, when the check names addresses
// (expectAddress), to one of them.
#include <algorithm>

#include "probe/probe.h"
#include "probe/resolver.h"

namespace watchd::probe {

namespace {

class DnsProbe final : public TimedProbe {
public:
    DnsProbe(event::Loop &loop, const model::CheckSpec &spec, Done done) : TimedProbe(loop, std::move(done)), spec_(spec) {}

    bool begin() {
        if (!start_clock(spec_.timeout,
                         [this] { finish_with(false, "no answer within " + base::format_duration(spec_.timeout)); }))
            return false;
        auto r = Resolver::start(loop_, spec_.address, 0, SOCK_STREAM, [this](std::vector<Address> found, std::string error) {
            if (found.empty()) return finish_with(false, std::move(error));
            std::vector<std::string> got;
            for (const Address &a : found) got.push_back(address_text(a));
            if (!spec_.expect_addresses.empty() &&
                std::none_of(got.begin(), got.end(), [&](const std::string &g) {
                    return std::find(spec_.expect_addresses.begin(), spec_.expect_addresses.end(), g) !=
                           spec_.expect_addresses.end();
                })) {
                std::string list;
                for (const auto &g : got) list += (list.empty() ? "" : ", ") + g;
                return finish_with(false, "resolves to " + list + ", not to an expected address");
            }
            finish_with(true, "");
        });
        if (!r) finish_with(false, "cannot resolve " + spec_.address + ": " + r.error().message());
        else resolver_ = std::move(*r);
        return true;
    }

private:
    void before_report() override { resolver_.reset(); }

    const model::CheckSpec spec_;
    std::unique_ptr<Resolver> resolver_;
};

} // namespace

base::Result<std::unique_ptr<Probe>> start_dns_probe(event::Loop &loop, const model::CheckSpec &spec, Done done) {
    auto p = std::make_unique<DnsProbe>(loop, spec, std::move(done));
    if (!p->begin()) return base::unexpected(base::Error{std::make_error_code(std::errc::not_enough_memory), "probe",
                                                          "cannot add the probe's sources to the loop"});
    return std::unique_ptr<Probe>(std::move(p));
}

} // namespace watchd::probe
