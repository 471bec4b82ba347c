#pragma once

#include "confab/realtime/hub.hpp"

#include <memory>
#include <string>
#include <vector>

namespace confab::realtime {

// Records what reaches it: each batch as its frames joined by '+', each close as its code.
class RecordingConnection final : public Connection {
public:
    RecordingConnection(std::string user, std::string token) : user_(std::move(user)), token_(std::move(token)) {}
    const std::string& user_id() const override { return user_; }
    const std::string& token_hash() const override { return token_; }
    void deliver(Frames frames) override {
        std::string batch;
        for (const auto& frame : frames) batch += (batch.empty() ? "" : "+") + *frame;
        received.push_back(batch);
    }
    void close(CloseCode code) override { received.push_back("close " + std::to_string(static_cast<int>(code))); }

    std::vector<std::string> received;

private:
    std::string user_, token_;
};

inline Frame frame(std::string text) { return std::make_shared<const std::string>(std::move(text)); }

}  // namespace confab::realtime
