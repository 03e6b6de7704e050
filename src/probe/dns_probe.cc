// dns probes: the target name resolves (the system's resolver, off the loop), and, when the check names addresses
// (expectAddress), to one of them.
#include <algorithm>

#include "probe/probe.h"
#include "probe/resolver.h"

namespace watchd::probe {

namespace {

class DnsProbe final : public Probe {
public:
    DnsProbe(event::Loop &loop, const model::CheckSpec &spec, Done done)
        : loop_(loop), spec_(spec), done_(std::move(done)) {}

    bool begin() {
        started_ = base::now_monotonic();
        auto finish = event::Timer::create(loop_, [this] { report(); });
        auto timeout = event::Timer::create(loop_, [this] {
            finish_with(false, "no answer within " + base::format_duration(spec_.timeout));
        }, event::Priority::Normal, timeout_accuracy(spec_.timeout));
        if (!finish || !timeout) return false;
        finish_ = std::move(*finish);
        timeout_ = std::move(*timeout);
        timeout_->arm(started_ + spec_.timeout);
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
    void finish_with(bool ok, std::string error) {
        if (finished_) return;
        finished_ = true;
        result_ = {ok, base::now_monotonic() - started_, std::move(error), {}};
        timeout_->cancel();
        finish_->arm(1); // told on the next iteration: never inside start() or a source's own callback
    }
    void report() {
        resolver_.reset();
        if (done_) std::exchange(done_, nullptr)(std::move(result_));
    }

    event::Loop &loop_;
    const model::CheckSpec spec_;
    Done done_;
    base::Usec started_ = 0;
    bool finished_ = false;
    Result result_;
    std::unique_ptr<Resolver> resolver_;
    std::unique_ptr<event::Timer> timeout_;
    std::unique_ptr<event::Timer> finish_;
};

} // namespace

base::Result<std::unique_ptr<Probe>> start_dns_probe(event::Loop &loop, const model::CheckSpec &spec, Done done) {
    auto p = std::make_unique<DnsProbe>(loop, spec, std::move(done));
    if (!p->begin()) return base::unexpected(base::Error{std::make_error_code(std::errc::not_enough_memory), "probe",
                                                          "cannot add the probe's sources to the loop"});
    return std::unique_ptr<Probe>(std::move(p));
}

} // namespace watchd::probe
