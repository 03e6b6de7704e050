// Many one-shot deadlines under one timer on the loop: probe timeouts, thousands a second, each set and nearly
// always cancelled before it is due. An sd-event timer source for each (created, armed, cancelled, freed) cost a
// third of the loop's instructions at 1,000 checks a second; here a deadline is an entry in an ordered map, and
// the one timer is re-armed only when it fires or a deadline comes before the one it waits for.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <unordered_map>
#include <utility>

#include "base/result.h"
#include "base/time.h"
#include "event/loop.h"
#include "event/source.h"

namespace watchd::event {

class Deadlines {
public:
    using Id = std::uint64_t; // 0: none
    // `accuracy`: how late a deadline may be told (the timer's; sd-event may then wake once for it and others).
    static base::Result<std::unique_ptr<Deadlines>> create(Loop &loop, base::Usec accuracy = base::kUsecPerMsec);
    Deadlines(const Deadlines &) = delete;
    Deadlines &operator=(const Deadlines &) = delete;

    // cb runs once from the loop at `at` (CLOCK_MONOTONIC µs) or a little later, unless cancelled first. It may add
    // and cancel deadlines, and destroy what set it, but not this object.
    Id add(base::Usec at, std::function<void()> cb);
    // No call any more (a deadline already told, or 0, is ignored).
    void cancel(Id id);
    std::size_t size() const { return by_id_.size(); }

private:
    Deadlines() = default;
    void fire();
    void arm_for_first();

    std::map<std::pair<base::Usec, Id>, std::function<void()>> due_;
    std::unordered_map<Id, base::Usec> by_id_;
    Id next_ = 0;
    base::Usec armed_at_ = 0; // what the timer waits for (0: not armed)
    std::unique_ptr<Timer> timer_;
};

} // namespace watchd::event
