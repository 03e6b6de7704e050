// Handle<T, Fn>: unique_ptr with a stateless deleter that calls a C free function.
#pragma once

#include <memory>

namespace watchd::base {

template <auto Fn> struct FnDeleter {
    void operator()(auto *p) const noexcept { Fn(p); }
};
template <class T, auto Fn> using Handle = std::unique_ptr<T, FnDeleter<Fn>>;

} // namespace watchd::base
