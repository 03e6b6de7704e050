// Result<T>: a value or an Error, shaped like std::expected so C++23 can replace it.
#pragma once

#include <cerrno>
#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace watchd::base {

// An error: an errno-style code, where it happened (a call or a config pointer) and what went wrong.
struct Error {
    std::error_code code;
    std::string where;
    std::string what;

    // "where: what (strerror)" for logs; "where (strerror)" when there is no what.
    std::string message() const {
        std::string m = where.empty() || what.empty() ? where + what : where + ": " + what;
        if (code) m += (m.empty() ? "" : " ") + ("(" + code.message() + ")");
        return m;
    }
};

// Error from a negative errno return of a C call: errno_error(-r, "sd_event_add_io", "...").
inline Error errno_error(int err, std::string where, std::string what = {}) {
    return Error{std::error_code(err < 0 ? -err : err, std::generic_category()), std::move(where), std::move(what)};
}

template <class E> struct Unexpected {
    E error;
};
inline Unexpected<Error> unexpected(Error e) { return {std::move(e)}; }

template <class T> class [[nodiscard]] Result {
public:
    Result(T v) : v_(std::in_place_index<0>, std::move(v)) {}
    Result(Unexpected<Error> e) : v_(std::in_place_index<1>, std::move(e.error)) {}

    bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }
    T &value() & { return std::get<0>(v_); }
    const T &value() const & { return std::get<0>(v_); }
    T &&value() && { return std::get<0>(std::move(v_)); }
    T &operator*() & { return value(); }
    const T &operator*() const & { return value(); }
    T *operator->() { return &value(); }
    const T *operator->() const { return &value(); }
    const Error &error() const { return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

template <> class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Unexpected<Error> e) : err_(std::move(e.error)), ok_(false) {}
    bool has_value() const noexcept { return ok_; }
    explicit operator bool() const noexcept { return ok_; }
    const Error &error() const { return err_; }

private:
    Error err_;
    bool ok_ = true;
};

} // namespace watchd::base
