#pragma once

#include "confab/store/tx.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <vector>

// Which running process holds a connection of which user (migrations/0027_presence.sql): a
// user is online while any process, on any node, holds one.
namespace confab::store::presence {

void prepare(Tx& tx);

struct Change {
    bool was_online = false;  // anywhere, before
    bool is_online = false;   // anywhere, after
};

// Records whether `process_id` holds a connection of the user, as `held_now` says once the
// user's lock is taken. The lock (transaction-scoped, advisory) serializes the records of one
// user across processes, so the second of two at once sees the first's row, and of two records
// by one process the later one asks `held_now` later.
Change set_held(Tx& tx, const std::string& user_id, const std::string& process_id,
                const std::function<bool()>& held_now);

// Marks the process alive; false when its row was missing (swept as silent, or lost with an
// unlogged table), so that it writes its users again.
bool heartbeat(Tx& tx, const std::string& process_id);

// A user a process shows as typing in a chat.
struct Typist {
    std::string chat_id;
    std::string user_id;

    bool operator==(const Typist&) const = default;
};

// The process started showing the user as typing: should it die without stopping them, the
// process that sweeps it does.
void typing_started(Tx& tx, const std::string& process_id, const Typist& typist);
// What the process shows as typing now (at each heartbeat): the typists it stopped are
// forgotten, and those a sweep forgot while it was silent are recorded again.
void typing_now(Tx& tx, const std::string& process_id, const std::vector<Typist>& typists);

struct Swept {
    std::vector<std::string> offline;  // online nowhere now: a presence change each
    std::vector<Typist> stopped;       // typing nowhere now: a typing stop each
};
// Forgets the processes silent for `timeout`, their connections and their typists.
Swept sweep(Tx& tx, std::chrono::milliseconds timeout);

bool online(Tx& tx, const std::string& user_id);

}  // namespace confab::store::presence
