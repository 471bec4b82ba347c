#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>

namespace confab::domain {

// A background sender's slots (webhook deliveries, push sends) are held for as long as a
// receiver takes to answer, up to the timeout: a user whose receivers accept and never answer
// would hold every slot, and everyone else's sends would wait (docs/api.md, Webhooks and Push
// notifications). So each owner may hold only a share of the slots: an eighth, at least one.
std::size_t fair_share(std::size_t capacity);

// The sends in flight, counted by whose they are: at most `capacity` in all, and at most
// fair_share(capacity) of one owner's. An owner of nullopt is the operator's, held to the
// capacity alone. Not thread-safe: a sender keeps it on its strand.
class SharedSlots {
public:
    explicit SharedSlots(std::size_t capacity);

    std::size_t share() const { return share_; }
    std::size_t in_flight() const { return in_flight_; }
    // How many more may start, whoever's.
    std::size_t room() const;
    // Whether one more of the owner's may start now.
    bool may_start(const std::optional<std::string>& owner) const;
    void started(const std::optional<std::string>& owner);
    void finished(const std::optional<std::string>& owner);
    // The owners with sends in flight (the operator not among them), and how many each.
    const std::map<std::string, int>& by_owner() const { return by_owner_; }

private:
    std::size_t capacity_;
    std::size_t share_;
    std::size_t in_flight_ = 0;
    std::map<std::string, int> by_owner_;
};

}  // namespace confab::domain
