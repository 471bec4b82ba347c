#pragma once

#include "support/fake_http_server.hpp"

namespace confab::test {

// Opens a gate when it goes out of scope: declared after the fake server whose handlers wait at
// the gate, it lets them go before that server waits for them, however the test ends.
class OpenedOnExit {
public:
    explicit OpenedOnExit(Gate& gate) : gate_(gate) {}
    OpenedOnExit(const OpenedOnExit&) = delete;
    OpenedOnExit& operator=(const OpenedOnExit&) = delete;
    ~OpenedOnExit() { gate_.open(); }

private:
    Gate& gate_;
};

}  // namespace confab::test
