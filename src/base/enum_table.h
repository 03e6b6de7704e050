// Name tables for enums (systemd's string tables): constexpr arrays of rows whose `value` member follows the enum's
// order, so a row is found by indexing and a missing or misplaced row fails to compile.
#pragma once

#include <array>
#include <cstddef>

namespace watchd::base {

// True when row i describes the enum value i, for every row.
template <class Row, std::size_t N> constexpr bool in_enum_order(const std::array<Row, N> &rows) {
    for (std::size_t i = 0; i < N; ++i)
        if (static_cast<std::size_t>(rows[i].value) != i) return false;
    return true;
}

// The row of value e.
template <class Row, std::size_t N, class E> constexpr const Row &row_of(const std::array<Row, N> &rows, E e) {
    return rows[static_cast<std::size_t>(e)];
}

} // namespace watchd::base
