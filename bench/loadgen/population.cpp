#include "population.hpp"

#include "concurrency.hpp"
#include "traffic.hpp"

#include <boost/beast/http/verb.hpp>
#include <nlohmann/json.hpp>

#include <random>
#include <stdexcept>

namespace confab::bench {
namespace asio = boost::asio;
using boost::beast::http::verb;
using nlohmann::json;

namespace {

std::string random_tag() {
    static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::random_device device;
    std::string tag;
    for (int i = 0; i < 6; ++i) tag += alphabet[device() % (sizeof alphabet - 1)];
    return tag;
}

json expect(const HttpResponse& response, int status, const std::string& what) {
    if (response.status != status)
        throw std::runtime_error(what + ": HTTP " + std::to_string(response.status) + " " +
                                 response.body.substr(0, 300));
    return json::parse(response.body);
}

}  // namespace

Population::Population(asio::any_io_executor executor, std::vector<asio::ip::tcp::endpoint> nodes, std::size_t width)
    : executor_(std::move(executor)), nodes_(std::move(nodes)), width_(width), tag_(random_tag()) {
    if (nodes_.empty()) throw std::invalid_argument("a population needs a server");
}

asio::awaitable<void> Population::ensure_users(std::size_t count) {
    if (count <= users_.size()) co_return;
    const auto first = users_.size();
    users_.resize(count);
    co_await for_each_bounded<HttpClient>(
        count - first, width_, [this] { return HttpClient(executor_, server()); },
        [this, first](std::size_t i, HttpClient& http) -> asio::awaitable<void> {
            const auto index = first + i;
            const json body{{"username", "lg" + tag_ + "_" + std::to_string(index)}, {"password", "loadgen-password"}};
            const auto created =
                expect(co_await http.request(verb::post, "/api/v1/auth/register", {}, body.dump()), 201, "register");
            users_[index] = User{created["user"]["id"].get<std::string>(), created["token"].get<std::string>()};
        });
}

asio::awaitable<std::vector<Chat>> Population::create_groups(const std::string& title,
                                                             std::vector<std::vector<std::size_t>> members) {
    std::vector<Chat> chats(members.size());
    co_await for_each_bounded<HttpClient>(
        members.size(), width_, [this] { return HttpClient(executor_, server()); },
        [&](std::size_t c, HttpClient& http) -> asio::awaitable<void> {
            const auto& list = members[c];
            json member_ids = json::array();
            for (std::size_t m = 1; m < list.size(); ++m) member_ids.push_back(users_.at(list[m]).id);
            const json body{{"type", "group"}, {"title", title + " " + std::to_string(c)}, {"member_ids", member_ids}};
            const auto created =
                expect(co_await http.request(verb::post, "/api/v1/chats", users_.at(list.front()).token, body.dump()),
                       201, "create group");
            chats[c] = Chat{created["id"].get<std::string>(), list};
        });
    co_return chats;
}

asio::awaitable<Fleet> Population::connect(const std::vector<Seat>& seats, FrameSink& sink) {
    Fleet fleet;
    fleet.connections.resize(seats.size());
    LatencySamples handshakes;
    const auto started = now_ns();
    co_await for_each_bounded<int>(
        seats.size(), width_, [] { return 0; },
        [&](std::size_t i, int&) -> asio::awaitable<void> {
            const auto begun = now_ns();
            auto connection = std::make_shared<WsConnection>(executor_, seats[i].chat);
            co_await connection->open(nodes_[node_of_seat(i)], users_.at(seats[i].user).token);
            handshakes.add_ns(now_ns() - begun);
            connection->start(sink);
            fleet.connections[i] = std::move(connection);
        });
    fleet.connect_seconds = static_cast<double>(now_ns() - started) / 1e9;
    fleet.connect = handshakes.summarize();
    co_return fleet;
}

asio::awaitable<void> Population::disconnect(Fleet& fleet) {
    for (auto& connection : fleet.connections) connection->close();
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    const auto all_finished = [&] {
        for (const auto& connection : fleet.connections)
            if (!connection->finished()) return false;
        return true;
    };
    while (!all_finished() && Clock::now() < deadline) co_await sleep_for(std::chrono::milliseconds(50));
    // The sink (a scenario's Traffic) must outlive every read loop that reports to it.
    for (auto& connection : fleet.connections)
        if (!connection->finished()) connection->abort();
    while (!all_finished()) co_await sleep_for(std::chrono::milliseconds(10));
    fleet.connections.clear();
}

std::vector<Seat> seats_of(const std::vector<Chat>& chats) {
    std::vector<Seat> seats;
    for (std::size_t c = 0; c < chats.size(); ++c)
        for (const auto user : chats[c].members) seats.push_back({user, static_cast<int>(c)});
    return seats;
}

}  // namespace confab::bench
