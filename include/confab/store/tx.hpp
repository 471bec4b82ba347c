#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

namespace confab::store {

// One open transaction: the unit of work a caller asks the Pool for and hands to the
// store's functions, which alone read and write through it. Outside the store it is only a
// name (its statements are confab/store/sql.hpp's), so no layer above holds a libpqxx type.
class Tx;

// The database cannot be reached, the connection broke mid-request, or the pool is too busy
// to queue more work: safe to retry, after retry_after at the earliest.
class Unavailable : public std::runtime_error {
public:
    explicit Unavailable(const std::string& what, std::chrono::milliseconds retry_after = std::chrono::seconds(1))
        : std::runtime_error(what), retry_after_(retry_after) {}
    std::chrono::milliseconds retry_after() const noexcept { return retry_after_; }

private:
    std::chrono::milliseconds retry_after_;
};

// A write would have stored a second row under a key that must be unique. The transaction
// is doomed: the caller answers with its own rule's error.
class Duplicate : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A row that a concurrent transaction committed after this one's snapshot decides the
// answer (the same client_id stored by two nodes at once). The pool rolls the transaction
// back and runs it again, as after a deadlock; its fresh snapshot sees that row.
class RaceLost : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A value the database could not take: a date that does not exist (month 13), a number out
// of range. The transaction is doomed.
class InvalidValue : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace confab::store
