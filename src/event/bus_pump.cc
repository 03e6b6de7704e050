// The bus's fd and timeout on the loop; see bus_pump.h.
#include "event/bus_pump.h"

#include <cstring>
#include <poll.h>
#include <systemd/sd-bus.h>

namespace watchd::event {

namespace {
std::string errno_text(int r) { return std::strerror(r < 0 ? -r : r); }
} // namespace

base::Result<std::unique_ptr<BusPump>> BusPump::create(Loop &loop, sd_bus *bus, Lost lost) {
    std::unique_ptr<BusPump> p(new BusPump(bus, std::move(lost)));
    const int fd = sd_bus_get_fd(bus);
    if (fd < 0) return base::unexpected(base::errno_error(fd, "sd_bus_get_fd"));
    auto io = IoSource::create(loop, fd, 0, [raw = p.get()](std::uint32_t) { raw->process(); });
    if (!io) return base::unexpected(io.error());
    p->io_ = std::move(*io);
    auto timer = Timer::create(loop, [raw = p.get()] { raw->process(); });
    if (!timer) return base::unexpected(timer.error());
    p->timer_ = std::move(*timer);
    return p;
}

void BusPump::process() {
    if (stopped_) return;
    for (int i = 0; i < kMaxProcessPerWakeup && !fail_pending_; ++i) {
        const int r = sd_bus_process(bus_, nullptr);
        if (r < 0) return lose("lost the system bus connection (" + errno_text(r) + ")");
        if (r == 0) break;
        if (stopped_) return; // a callback gave up on the connection
    }
    if (fail_pending_) return lose(fail_reason_);
    if (sd_bus_is_open(bus_) <= 0) return lose("lost the system bus connection (closed by the bus)");
    update(); // past the bound, a non-empty read queue makes the timeout "now": the rest goes on next iteration
}

void BusPump::update() {
    if (stopped_ || fail_pending_) return;
    const int e = sd_bus_get_events(bus_);
    if (e < 0) return fail("lost the system bus connection (" + errno_text(e) + ")");
    const std::uint32_t want = ((e & POLLIN) ? io::kReadable : 0) | ((e & POLLOUT) ? io::kWritable : 0);
    if (want != events_ && io_->set_events(want)) events_ = want;
    std::uint64_t at = UINT64_MAX;
    if (sd_bus_get_timeout(bus_, &at) > 0 && at != UINT64_MAX) timer_->arm(at == 0 ? 1 : at);
    else timer_->cancel();
}

void BusPump::fail(std::string why) {
    if (stopped_ || fail_pending_) return;
    fail_pending_ = true;
    fail_reason_ = std::move(why);
    timer_->arm(1); // in the past: process() gives up on the next iteration
}

// Sources are only switched off: this runs inside io_'s or timer_'s own callback.
void BusPump::lose(const std::string &why) {
    stopped_ = true;
    fail_pending_ = false;
    io_->disable();
    timer_->cancel();
    if (lost_) lost_(why);
}

} // namespace watchd::event
