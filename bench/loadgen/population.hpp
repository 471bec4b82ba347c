#pragma once

#include "http_client.hpp"
#include "latency.hpp"
#include "ws_connection.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <memory>
#include <string>
#include <vector>

namespace confab::bench {

struct User {
    std::string id;
    std::string token;
};

struct Chat {
    std::string id;
    std::vector<std::size_t> members;  // indices into the population's users; the first owns it
};

// Which user listens to which scenario chat (-1: none) on one connection.
struct Seat {
    std::size_t user;
    int chat;
};

// The connections of one scenario and what opening them cost.
struct Fleet {
    std::vector<std::shared_ptr<WsConnection>> connections;
    LatencySummary connect;      // per connection: TCP connect + upgrade
    double connect_seconds = 0;  // wall time to open them all
};

// The users and chats the scenarios share, made over the REST API once per loadgen run.
// Registration hashes a password on the server, the slowest part of setup, so users are
// registered once and reused by every scenario. With several nodes of a cluster, REST goes to
// the first and WebSockets round-robin over all of them (see node_of_seat).
class Population {
public:
    Population(boost::asio::any_io_executor executor, std::vector<boost::asio::ip::tcp::endpoint> nodes,
               std::size_t width);

    // Registers users until there are `count`.
    boost::asio::awaitable<void> ensure_users(std::size_t count);
    const User& user(std::size_t index) const { return users_.at(index); }

    // One group per member list; the first member of each list creates it.
    boost::asio::awaitable<std::vector<Chat>> create_groups(const std::string& title,
                                                            std::vector<std::vector<std::size_t>> members);

    // Opens one connection per seat (at most `width` handshakes at a time) and starts
    // their read loops into `sink`.
    boost::asio::awaitable<Fleet> connect(const std::vector<Seat>& seats, FrameSink& sink);
    // Closes every connection of `fleet` and waits until their read loops have ended (after
    // 10 s without a completed close handshake, the socket is simply closed).
    boost::asio::awaitable<void> disconnect(Fleet& fleet);

    boost::asio::ip::tcp::endpoint server() const { return nodes_.front(); }
    std::size_t nodes() const { return nodes_.size(); }
    // The node that connect() opens the connection of seat `seat` to.
    std::size_t node_of_seat(std::size_t seat) const { return seat % nodes_.size(); }

private:
    boost::asio::any_io_executor executor_;
    std::vector<boost::asio::ip::tcp::endpoint> nodes_;
    std::size_t width_;
    std::string tag_;  // makes usernames unique per run, so a database can be reused
    std::vector<User> users_;
};

// Seats for every member of every chat, chat by chat.
std::vector<Seat> seats_of(const std::vector<Chat>& chats);

}  // namespace confab::bench
