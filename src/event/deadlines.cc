// One timer for many deadlines (see deadlines.h).
#include "event/deadlines.h"

namespace watchd::event {

base::Result<std::unique_ptr<Deadlines>> Deadlines::create(Loop &loop, base::Usec accuracy) {
    std::unique_ptr<Deadlines> d(new Deadlines());
    Deadlines *self = d.get();
    auto t = Timer::create(loop, [self] { self->fire(); }, Priority::Normal, accuracy);
    if (!t) return base::unexpected(t.error());
    d->timer_ = std::move(*t);
    return d;
}

Deadlines::Id Deadlines::add(base::Usec at, std::function<void()> cb) {
    const Id id = ++next_;
    due_.emplace(std::make_pair(at, id), std::move(cb));
    by_id_.emplace(id, at);
    if (armed_at_ == 0 || at < armed_at_) { // the timer waits for a later one (or none): it must come earlier
        armed_at_ = at;
        timer_->arm(at);
    }
    return id;
}

void Deadlines::cancel(Id id) {
    auto it = by_id_.find(id);
    if (it == by_id_.end()) return;
    due_.erase({it->second, id});
    by_id_.erase(it);
    // The timer is left as it is: when it fires for nothing, it is armed for what comes first then.
}

void Deadlines::fire() {
    armed_at_ = 0;
    const base::Usec now = base::now_monotonic();
    // Each due one is taken out before it is told: its callback may add and cancel others, and destroy its owner.
    while (!due_.empty() && due_.begin()->first.first <= now) {
        auto node = due_.extract(due_.begin());
        by_id_.erase(node.key().second);
        node.mapped()();
    }
    arm_for_first();
}

void Deadlines::arm_for_first() {
    if (due_.empty()) return;
    const base::Usec first = due_.begin()->first.first;
    if (armed_at_ != 0 && armed_at_ <= first) return; // a callback armed it for one that comes first
    armed_at_ = first;
    timer_->arm(first);
}

} // namespace watchd::event
