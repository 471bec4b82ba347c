#pragma once

#include "confab/store/database.hpp"

#include <string>
#include <utility>

namespace confab::test {

// What `fn` returns from a transaction of its own on the database at `url` (store::run_alone).
template <class Fn>
auto in_transaction(const std::string& url, Fn fn) {
    decltype(fn(std::declval<store::Tx&>())) result{};
    store::run_alone(url, [&](store::Tx& tx) { result = fn(tx); });
    return result;
}

}  // namespace confab::test
