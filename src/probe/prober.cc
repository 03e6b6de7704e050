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
    return start_socket_probe(loop_, *sockets_, spec, std::move(done));
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
