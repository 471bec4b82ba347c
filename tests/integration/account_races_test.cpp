// Requests racing the end of an account or of its sessions (docs/api.md, Deleting the account,
// Sessions, Server API): a sign-in concurrent with a deletion, a deactivation or a password
// change never leaves a token that works afterwards, and nothing concurrent with a deletion
// puts the deleted account back into a group, a channel, a broadcast list, a ban or a block.
// Each race repeats its requests for as long as the ending request runs, so that some land in
// every step of it.

#include "support/chat_api.hpp"
#include "support/fixture.hpp"
#include "support/host_token.hpp"

#include <pqxx/pqxx>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <latch>
#include <mutex>
#include <thread>
#include <vector>

namespace confab::test {
namespace {

const std::string api_key = "the-host-backends-server-api-key-for-races";
const std::string issuer = "https://host.example";
const std::string audience = "confab-chat";
const std::string secret = "the host app's shared secret, 32+ chars";
const std::string me_url = "/api/v1/users/me";

std::map<std::string, std::string> race_settings() {
    auto settings = unlimited();
    settings["CONFAB_SERVER_API_KEYS"] = api_key;
    settings["CONFAB_JWT_ENABLED"] = "true";
    settings["CONFAB_JWT_HS256_SECRET"] = secret;
    settings["CONFAB_JWT_ISSUER"] = issuer;
    settings["CONFAB_JWT_AUDIENCE"] = audience;
    return settings;
}

std::map<std::string, std::string> key_headers() {
    return {{"Authorization", "Bearer " + api_key}, {"Content-Type", "application/json"}};
}

// Runs `ending` once and each of `racers` over and over on threads of their own, all released
// together, until `ending` has answered (and once more after, at most 500 times each).
// `ending`'s answer.
HttpResponse racing(const std::function<HttpResponse()>& ending, const std::vector<std::function<void()>>& racers) {
    std::atomic<bool> ended{false};
    std::latch ready(static_cast<std::ptrdiff_t>(racers.size() + 1));
    HttpResponse answer;
    std::vector<std::thread> threads;
    threads.reserve(racers.size());
    for (const auto& racer : racers)
        threads.emplace_back([&ready, &ended, &racer] {
            ready.arrive_and_wait();
            for (int round = 0; round < 500; ++round) {
                const bool last = ended.load();
                racer();
                if (last) break;
            }
        });
    ready.arrive_and_wait();
    answer = guarded(ending);
    ended = true;
    for (auto& thread : threads) thread.join();
    return answer;
}

// Tokens some racing sign-ins were given (any answer but 200 gives none).
class Tokens {
public:
    void keep(const HttpResponse& signed_in) {
        if (signed_in.status != 200) return;
        const std::lock_guard lock(mutex_);
        tokens_.push_back(signed_in.json()["token"].get<std::string>());
    }
    // Those GET /users/me still answers with anything but 401.
    std::vector<std::string> working(std::uint16_t port) const {
        std::vector<std::string> alive;
        for (const auto& token : tokens_)
            if (get(port, token, me_url).status != 401) alive.push_back(token);
        return alive;
    }
    std::size_t size() const { return tokens_.size(); }

private:
    std::mutex mutex_;
    std::vector<std::string> tokens_;
};

HttpResponse sign_in(std::uint16_t port, const std::string& username, const std::string& password) {
    return guarded([&] {
        return http(port, "POST", "/api/v1/auth/login", json{{"username", username}, {"password", password}}.dump(),
                    {{"Content-Type", "application/json"}});
    });
}

class AccountRacesTest : public OwnServerSuite<race_settings> {
protected:
    static constexpr int rounds = 6;
    // A deactivation is one short write: more rounds to land sign-ins inside it.
    static constexpr int deactivation_rounds = 20;
    static constexpr int sign_in_threads = 3;

    static HttpResponse exchange(const std::string& external_id) {
        const auto now =
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        const json claims{{"iss", issuer}, {"aud", audience}, {"sub", external_id}, {"exp", now + 600}};
        return guarded([&] {
            return http(port(), "POST", "/api/v1/auth/token-exchange",
                        json{{"token", sign_host_token(JWT_ALG_HS256, secret, claims)}}.dump(),
                        {{"Content-Type", "application/json"}});
        });
    }

    // The rows that still name the user as a member, invitee, list owner or recipient, blocker
    // or banned user, by table.
    static std::map<std::string, long> rows_naming(const std::string& user_id) {
        pqxx::connection db(database_->url());
        pqxx::work tx(db);
        std::map<std::string, long> found;
        for (const auto* query :
             {"chat_members WHERE user_id", "invitations WHERE user_id", "broadcast_lists WHERE owner_id",
              "broadcast_list_recipients WHERE user_id", "user_blocks WHERE blocker_id", "chat_bans WHERE user_id"}) {
            const auto count =
                tx.exec_params1(std::string("SELECT count(*) FROM ") + query + " = $1::uuid", user_id)[0].as<long>();
            if (count > 0) found[query] = count;
        }
        return found;
    }
};

TEST_F(AccountRacesTest, NoSignInRacingADeletionLeavesAWorkingToken) {
    for (int round = 0; round < rounds; ++round) {
        const auto user = register_user(port(), "del");
        Tokens tokens;
        std::vector<std::function<void()>> logins(sign_in_threads,
                                                  [&] { tokens.keep(sign_in(port(), user.username, kPassword)); });
        const auto deleted = racing(
            [&] {
                return del(port(), user.token, me_url, json{{"password", kPassword}});
            },
            logins);
        ASSERT_EQ(deleted.status, 204) << deleted.describe();
        EXPECT_EQ(tokens.working(port()), std::vector<std::string>{})
            << "round " << round << ": of " << tokens.size() << " tokens signed in during the deletion";
    }
}

// docs/api.md, Deleting the account: of deletions racing with several tokens of the account,
// one carries the deletion out and tells each contact once; the others answer 401, as any
// request of the account does once it is deleted.
TEST_F(AccountRacesTest, OfDeletionsRacingOneDeletesAndTellsTheContactsOnce) {
    constexpr int deleters = 8;
    const auto ben = register_user(port(), "ben");
    const auto cid = register_user(port(), "cid");
    for (int round = 0; round < 3; ++round) {
        const auto user = register_user(port(), "del");
        create_direct(port(), user, ben);
        std::vector<std::string> tokens{user.token};
        while (static_cast<int>(tokens.size()) < deleters) tokens.push_back(login(port(), user.username));
        auto wb = ws_connect(port(), ben.token);

        std::latch ready(deleters);
        std::vector<int> statuses(deleters);
        std::vector<std::thread> threads;
        for (int i = 0; i < deleters; ++i)
            threads.emplace_back([&, i] {
                ready.arrive_and_wait();
                statuses[i] = guarded([&] {
                                  return del(port(), tokens[i], me_url, json{{"password", kPassword}});
                              }).status;
            });
        for (auto& thread : threads) thread.join();
        EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 204), 1) << "round " << round;
        EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 401), deleters - 1) << "round " << round;

        const auto tombstone = [&user](const json& frame) {
            const auto& about = frame.value("data", json::object()).value("user", json::object());
            return about.value("id", "") == user.id && about.value("deleted", false);
        };
        ASSERT_TRUE(wait_for(*wb, "user.updated", tombstone, 20s).has_value()) << "round " << round;
        EXPECT_TRUE(NoFrameBefore(*wb, frame_of("user.updated", tombstone), direct_message_marker(port(), cid, ben)))
            << "round " << round << ": the tombstone is told once";
    }
}

TEST_F(AccountRacesTest, NoOldPasswordSessionSurvivesAPasswordChange) {
    for (int round = 0; round < rounds; ++round) {
        const auto user = register_user(port(), "pw");
        Tokens tokens;
        std::vector<std::function<void()>> logins(sign_in_threads,
                                                  [&] { tokens.keep(sign_in(port(), user.username, kPassword)); });
        const auto changed = racing(
            [&] {
                return put(port(), user.token, "/api/v1/users/me/password",
                           {{"current_password", kPassword}, {"new_password", "a brand new secret"}});
            },
            logins);
        ASSERT_EQ(changed.status, 204) << changed.describe();
        EXPECT_EQ(tokens.working(port()), std::vector<std::string>{})
            << "round " << round << ": of " << tokens.size() << " sessions of the old password";
        EXPECT_EQ(get(port(), user.token, me_url).status, 200) << "the caller's own session stays";
    }
}

TEST_F(AccountRacesTest, NoTokenExchangeRacingADeactivationLeavesAWorkingToken) {
    for (int round = 0; round < deactivation_rounds; ++round) {
        const auto external_id = "race|" + random_alnum(10);
        ASSERT_EQ(exchange(external_id).status, 200);
        Tokens tokens;
        std::vector<std::function<void()>> exchanges(2 * sign_in_threads, [&] { tokens.keep(exchange(external_id)); });
        const auto deactivated = racing(
            [&] {
                return http(port(), "POST", "/api/v1/server/users/" + url_encode(external_id) + "/deactivate",
                            std::string("{}"), key_headers());
            },
            exchanges);
        ASSERT_EQ(deactivated.status, 200) << deactivated.describe();
        EXPECT_EQ(tokens.working(port()), std::vector<std::string>{})
            << "round " << round << ": of " << tokens.size() << " tokens exchanged during the deactivation";
    }
}

TEST_F(AccountRacesTest, NothingRacingADeletionPutsTheAccountBackAnywhere) {
    // Others who keep re-adding the user, and places the user keeps joining, across rounds.
    const auto ann = register_user(port(), "ann");
    const auto cal = register_user(port(), "cal");  // shares no chat with the user: invites them
    const auto dee = register_user(port(), "dee");  // blocked by the user
    const auto handle = "race" + random_alnum(10);
    create_channel(port(), ann, {{"handle", handle}, {"is_public", true}});
    const std::string linked = create_group(port(), ann)["id"];
    const std::string code =
        expect_json(post(port(), ann.token, chat_url(linked) + "/invite-links", json::object()), 201, "link")["code"];
    const std::string banning = create_group(port(), ann)["id"];
    const std::string list = expect_json(post(port(), ann.token, "/api/v1/broadcast-lists",
                                              {{"name", "race"}, {"recipient_ids", json::array()}}),
                                         201, "broadcast list")["id"];
    for (int round = 0; round < rounds; ++round) {
        const auto user = register_user(port(), "gone");
        // A group of ann's the user is in, and one the user owns with ann in it.
        const std::string shared = create_group(port(), ann, {user.id})["id"];
        const std::string owned = create_group(port(), user, {ann.id})["id"];
        expect_json(put(port(), user.token, "/api/v1/users/me/privacy", {{"who_can_add_me", "contacts"}}), 200,
                    "privacy");
        create_group(port(), cal, {user.id});
        const auto invitations =
            expect_json(get(port(), user.token, "/api/v1/invitations"), 200, "invitations")["invitations"];
        ASSERT_EQ(invitations.size(), 1u);
        const std::string invitation = invitations[0]["id"];

        const std::vector<std::function<void()>> comebacks{
            [&] { guarded([&] {
                      return post(port(), ann.token, members_url(shared), {{"user_ids", {user.id}}});
                  }); },
            [&] { guarded([&] {
                      return post(port(), ann.token, members_url(owned), {{"user_ids", {user.id}}});
                  }); },
            [&] { guarded([&] { return post(port(), user.token, "/api/v1/invite-links/" + code + "/join"); }); },
            [&] { guarded([&] { return post(port(), user.token, "/api/v1/invitations/" + invitation + "/accept"); }); },
            [&] { guarded([&] { return post(port(), user.token, channel_url(handle) + "/join"); }); },
            [&] {
                guarded([&] {
                    return put(port(), ann.token, "/api/v1/broadcast-lists/" + list + "/recipients/" + user.id);
                });
            },
            [&] { guarded([&] { return put(port(), user.token, "/api/v1/users/me/blocks/" + dee.id); }); },
            [&] {
                guarded([&] { return post(port(), ann.token, chat_url(banning) + "/bans", {{"user_id", user.id}}); });
            },
        };
        const auto deleted = racing(
            [&] {
                return del(port(), user.token, me_url, json{{"password", kPassword}});
            },
            comebacks);
        ASSERT_EQ(deleted.status, 204) << deleted.describe();

        EXPECT_EQ(rows_naming(user.id), (std::map<std::string, long>{})) << "round " << round;
        for (const auto& chat : {shared, owned}) {
            const auto members = member_user_ids(list_members(port(), ann, chat));
            EXPECT_EQ(std::count(members.begin(), members.end(), user.id), 0) << "round " << round;
        }
        EXPECT_EQ(get_chat(port(), ann, owned)["me"]["role"], "owner") << "round " << round;
    }
}

TEST_F(AccountRacesTest, TheServerApiActsForNoDeletedAccountAndItIsBannedNowhere) {
    const auto ann = register_user(port(), "ann");
    const auto user = register_user(port(), "gone");
    const std::string group = create_group(port(), ann, {user.id})["id"];
    ASSERT_EQ(del(port(), user.token, me_url, json{{"password", kPassword}}).status, 204);

    auto headers = key_headers();
    headers["X-On-Behalf-Of"] = user.id;
    const auto me = http(port(), "GET", me_url, std::nullopt, headers);
    EXPECT_TRUE(IsError(me, 400, "bad_request")) << me.describe();
    EXPECT_EQ(me.json()["error"]["details"]["field"], "X-On-Behalf-Of");
    const auto chat =
        http(port(), "POST", chats_url(),
             json{{"type", "group"}, {"title", "as a tombstone"}, {"member_ids", {ann.id}}}.dump(), headers);
    EXPECT_TRUE(IsError(chat, 400, "bad_request")) << chat.describe();

    EXPECT_TRUE(IsError(post(port(), ann.token, chat_url(group) + "/bans", {{"user_id", user.id}}), 404, "not_found"));
    EXPECT_EQ(expect_json(get(port(), ann.token, chat_url(group) + "/bans"), 200, "bans")["bans"], json::array());
}

}  // namespace
}  // namespace confab::test
