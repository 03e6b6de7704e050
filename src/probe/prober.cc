// The Prober: one entry to every probe kind, and the curl multi handle the http probes share.
#include "probe/probe.h"

#include "event/poll_set.h"

namespace watchd::probe {

Prober::Prober(event::Loop &loop) : loop_(loop) {}
Prober::~Prober() = default;

base::Result<std::unique_ptr<Probe>> Prober::start(const model::CheckSpec &spec, Done done) {
    if (spec.protocol == "http" || spec.protocol == "https") {
        if (!curl_) {
            auto c = net::CurlMulti::create(loop_);
            if (!c) return base::unexpected(c.error());
            curl_ = std::move(*c);
        }
        return start_http_probe(*curl_, spec, std::move(done));
    }
    if (spec.protocol == "dns") return start_dns_probe(loop_, spec, std::move(done));
    if (spec.protocol == "exec") {
        if (!children_) children_ = std::make_unique<ExecChildren>(loop_);
        return start_exec_probe(loop_, *children_, spec, std::move(done));
    }
    if (!sockets_) {
        auto p = event::PollSet::create(loop_);
        if (!p) return base::unexpected(p.error());
        sockets_ = std::move(*p);
    }
    if (!timeouts_) {
        auto d = event::Deadlines::create(loop_, 5 * base::kUsecPerMsec); // a 100 ms timeout told 5 % late at most
        if (!d) return base::unexpected(d.error());
        timeouts_ = std::move(*d);
    }
    return start_socket_probe(loop_, *sockets_, *timeouts_, spec, std::move(done));
}

bool TimedProbe::start_clock(base::Usec timeout, std::function<void()> on_timeout) {
    started_ = base::now_monotonic();
    auto finish = event::Timer::create(loop_, [this] { report(); });
    auto t = event::Timer::create(loop_, std::move(on_timeout), event::Priority::Normal, timeout_accuracy(timeout));
    if (!finish || !t) return false;
    finish_ = std::move(*finish);
    timeout_ = std::move(*t);
    timeout_->arm(started_ + timeout);
    return true;
}

void TimedProbe::finish_with(bool ok, std::string error, std::string warning) {
    if (finished_) return;
    finished_ = true;
    result_ = {ok, base::now_monotonic() - started_, std::move(error), std::move(warning)};
    timeout_->cancel();
    finish_->arm(1);
}

void TimedProbe::report() {
    before_report();
    if (done_) std::exchange(done_, nullptr)(std::move(result_));
}

std::string expiry_warning(std::optional<base::Usec> expiry, base::Usec within) {
    if (!expiry || within == 0) return {};
    const base::Usec now = base::now_realtime();
    if (*expiry > now + within) return {};
    const long days = static_cast<long>((*expiry - std::min(now, *expiry)) / (86400 * base::kUsecPerSec));
    return "the certificate expires in " + std::to_string(days) + (days == 1 ? " day" : " days");
}

std::string check_url(const model::CheckSpec &spec) {
    if (!spec.url.empty()) return spec.url;
    const bool v6 = spec.address.find(':') != std::string::npos && spec.address.front() != '[';
    return spec.protocol + "://" + (v6 ? "[" + spec.address + "]" : spec.address) + ":" + std::to_string(spec.port) +
           (spec.path.empty() || spec.path.front() != '/' ? "/" + spec.path : spec.path);
}

} // namespace watchd::probe
