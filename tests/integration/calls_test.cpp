// Calls (docs/api.md, Calls): call.* signalling over real WebSockets, the devices each frame
// reaches, the system message each call leaves, and GET /calls/ice-servers.

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <sodium.h>

#include "support/chat_api.hpp"

namespace confab::test {
namespace {

constexpr const char* turn_secret = "calls-test-turn-secret";

// The loopback port of the suite's coturn: one of its own, so suites running side by side
// do not meet, and below the kernel's ephemeral range (32768 and up), where a port the tests'
// own connections or port-0 servers hold would keep coturn from binding it.
int pick_turn_port() {
    std::random_device random;
    return std::uniform_int_distribution<int>(20000, 24999)(random);
}
const int turn_port = pick_turn_port();

bool turn_installed() {
    return std::system("command -v turnserver >/dev/null 2>&1 && command -v turnutils_uclient >/dev/null 2>&1") == 0;
}

// Debian's coturn on turn_port with use-auth-secret and the server's secret, as
// `./scripts/dev run` starts it; stopped by its pid.
class Coturn {
public:
    Coturn() : dir_(std::filesystem::temp_directory_path() / ("confab-coturn-" + std::to_string(turn_port))) {
        std::filesystem::create_directories(dir_);
        std::ofstream(dir_ / "turnserver.conf")
            << "listening-ip=127.0.0.1\nrelay-ip=127.0.0.1\nlistening-port=" << turn_port
            << "\nuse-auth-secret\nstatic-auth-secret=" << turn_secret
            << "\nrealm=confab.test\nfingerprint\nno-tls\nno-dtls\nno-cli\nallow-loopback-peers\npidfile="
            << (dir_ / "turnserver.pid").string() << "\nlog-file=" << (dir_ / "turnserver.log").string() << "\n";
        pid_ = fork();
        if (pid_ == 0) {
            // Its log is in the file: keep the test's output to the test.
            const int null = open("/dev/null", O_WRONLY);
            dup2(null, STDOUT_FILENO);
            dup2(null, STDERR_FILENO);
            const auto config = (dir_ / "turnserver.conf").string();
            execlp("turnserver", "turnserver", "-c", config.c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
    }
    ~Coturn() {
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            waitpid(pid_, nullptr, 0);
        }
        std::filesystem::remove_all(dir_);
    }
    Coturn(const Coturn&) = delete;
    Coturn& operator=(const Coturn&) = delete;

private:
    std::filesystem::path dir_;
    pid_t pid_ = -1;
};

// Whether coturn grants a relay allocation (and relays a few packets) to these credentials.
bool turn_allocates(const std::string& username, const std::string& credential) {
    const auto command = "turnutils_uclient -y -n 1 -c -u '" + username + "' -w '" + credential + "' -p " +
                         std::to_string(turn_port) + " 127.0.0.1 >/dev/null 2>&1";
    return std::system(command.c_str()) == 0;
}

json acked(WsClient& ws, const std::string& type, json data) {
    auto reply = ws_request(ws, type, std::move(data));
    EXPECT_TRUE(IsAck(reply)) << type << ": " << reply.dump();
    return reply.value("data", json::object());
}

json start_call(WsClient& ws, const std::string& chat_id, const std::string& kind = "voice") {
    return acked(ws, "call.start", {{"chat_id", chat_id}, {"kind", kind}})["call"];
}

FramePred of_call(const std::string& call_id) {
    return [call_id](const json& frame) {
        const auto& data = frame["data"];
        return data.value("call_id", "") == call_id || (data.contains("call") && data["call"]["id"] == call_id);
    };
}

json frame(WsClient& ws, const std::string& type, const std::string& call_id) {
    auto found = wait_for(ws, type, of_call(call_id));
    EXPECT_TRUE(found) << type << " did not arrive";
    return found ? *found : json::object();
}

// The first call.updated of the call whose CallModel satisfies `pred` (earlier ones are taken).
json updated_where(WsClient& ws, const std::string& call_id, const std::function<bool(const json& call)>& pred) {
    auto found = wait_for(ws, "call.updated", [&](const json& f) {
        const auto& call = f["data"]["call"];
        return call["id"] == call_id && pred(call);
    });
    EXPECT_TRUE(found) << "no such call.updated";
    return found ? (*found)["data"]["call"] : json::object();
}

// The chat's last system message, once it has one whose metadata.call_id is the call's.
json call_message(std::uint16_t port, const TestUser& u, const std::string& chat_id, const std::string& call_id) {
    json found;
    eventually([&] {
        for (const auto& message : system_messages(port, u, chat_id))
            if (message["metadata"].value("call_id", "") == call_id) found = message;
        return !found.is_null();
    });
    return found;
}

bool has_participant(const json& call, const std::string& user_id) {
    for (const auto& participant : call["participants"])
        if (participant["user_id"] == user_id) return true;
    return false;
}

::testing::AssertionResult IsCallModel(const json& call) {
    for (const char* key : {"id", "chat_id", "kind", "state", "caller_id", "started_at"})
        if (!call.contains(key) || !call[key].is_string())
            return ::testing::AssertionFailure() << key << " missing: " << call.dump();
    for (const char* key : {"answered_at", "ended_at", "outcome"})
        if (!call.contains(key) || !(call[key].is_null() || call[key].is_string()))
            return ::testing::AssertionFailure() << key << " missing: " << call.dump();
    if (!call.contains("duration_ms") || !call["duration_ms"].is_number_integer() || !call["participants"].is_array() ||
        !call["ringing"].is_array() || call.size() != 12)
        return ::testing::AssertionFailure() << "not a CallModel: " << call.dump();
    for (const auto& participant : call["participants"])
        if (!participant["user_id"].is_string() || !participant["screen_sharing"].is_boolean() ||
            !participant["connected"].is_boolean() || participant.size() != 3)
            return ::testing::AssertionFailure() << "not a CallParticipant: " << participant.dump();
    return ::testing::AssertionSuccess();
}

std::string running_call_url(const std::string& chat_id) { return chat_url(chat_id) + "/call"; }

std::string turn_url() { return "turn:127.0.0.1:" + std::to_string(turn_port) + "?transport=udp"; }

// A server of its own: a mesh of 3, TURN configured, rings and graces long enough that only
// the test ends a call.
std::map<std::string, std::string> calls_settings() {
    return {
        {"CONFAB_CALLS_MESH_LIMIT", "3"},
        {"CONFAB_CALLS_RING_TIMEOUT_MS", "600000"},
        {"CONFAB_CALLS_RECONNECT_GRACE_MS", "300000"},
        {"CONFAB_CALLS_TURN_URLS", turn_url() + ",stun:127.0.0.1"},
        {"CONFAB_CALLS_TURN_SECRET", turn_secret},
        {"CONFAB_CALLS_TURN_TTL_SECONDS", "600"},
    };
}

using CallsTest = OwnServerSuite<calls_settings>;

TEST_F(CallsTest, EveryDeviceRingsTheFirstAnswerTakesTheCallAndSignalsReachOnlyIt) {
    auto ann = register_user(port(), "ca");
    auto bob = register_user(port(), "cb");
    const std::string chat = create_direct(port(), ann, bob)["id"];
    auto ann_ws = ws_connect(port(), ann.token);
    auto bob_phone = ws_connect(port(), bob.token);
    auto bob_laptop = ws_connect(port(), login(port(), bob.username));

    const auto started = start_call(*ann_ws, chat, "video");
    ASSERT_TRUE(IsCallModel(started));
    EXPECT_EQ(started["state"], "ringing");
    EXPECT_EQ(started["kind"], "video");
    EXPECT_EQ(started["caller_id"], ann.id);
    EXPECT_EQ(started["ringing"], json::array({bob.id}));
    const std::string call = started["id"];
    for (auto* device : {bob_phone.get(), bob_laptop.get()}) {
        const auto ring = frame(*device, "call.ring", call);
        EXPECT_TRUE(IsCallModel(ring["data"]["call"])) << ring.dump();
    }

    const auto accepted = acked(*bob_laptop, "call.accept", {{"call_id", call}})["call"];
    EXPECT_EQ(accepted["state"], "active");
    EXPECT_TRUE(has_participant(accepted, bob.id));
    EXPECT_TRUE(accepted["answered_at"].is_string());
    const auto stopped = frame(*bob_phone, "call.ring_stopped", call);
    EXPECT_EQ(stopped["data"]["reason"], "answered");
    EXPECT_EQ(stopped["data"]["chat_id"], chat);
    EXPECT_TRUE(
        has_participant(updated_where(*ann_ws, call, [](const json& c) { return c["state"] == "active"; }), bob.id));
    EXPECT_EQ(refusal(ws_request(*bob_phone, "call.accept", {{"call_id", call}})), "conflict/not_ringing")
        << "the other device was too late";

    const json offer{{"type", "offer"}, {"sdp", "v=0 ann"}};
    acked(*ann_ws, "call.signal", {{"call_id", call}, {"to_user_id", bob.id}, {"kind", "offer"}, {"payload", offer}});
    const auto relayed = frame(*bob_laptop, "call.signal", call);
    EXPECT_EQ(relayed["data"],
              (json{{"call_id", call}, {"from_user_id", ann.id}, {"kind", "offer"}, {"payload", offer}}));
    const json candidate{{"candidate", "candidate:1 1 udp 2122260223 10.0.0.2 50000 typ host"}, {"sdpMid", "0"}};
    acked(*bob_laptop, "call.signal",
          {{"call_id", call}, {"to_user_id", ann.id}, {"kind", "candidate"}, {"payload", candidate}});
    EXPECT_EQ(frame(*ann_ws, "call.signal", call)["data"]["payload"], candidate);

    // The phone, not in the call, gets the call's state but never its signals.
    acked(*ann_ws, "call.screen_share.start", {{"call_id", call}});
    EXPECT_TRUE(NoFrameBefore(*bob_phone, frame_of("call.signal"), frame_of("call.updated", of_call(call))));
    const auto sharing = [&](const json& c) {
        for (const auto& participant : c["participants"])
            if (participant["user_id"] == ann.id) return participant["screen_sharing"].get<bool>();
        return false;
    };
    const auto shared = updated_where(*bob_laptop, call, sharing);
    for (const auto& participant : shared["participants"])
        EXPECT_EQ(participant["screen_sharing"], participant["user_id"] == ann.id) << shared.dump();
    acked(*ann_ws, "call.screen_share.stop", {{"call_id", call}});
    updated_where(*bob_laptop, call, [&](const json& c) { return !sharing(c); });

    acked(*bob_laptop, "call.hangup", {{"call_id", call}});
    const auto ended = frame(*ann_ws, "call.ended", call)["data"]["call"];
    EXPECT_EQ(ended["state"], "ended");
    EXPECT_EQ(ended["outcome"], "completed");
    EXPECT_TRUE(ended["ended_at"].is_string());
    frame(*bob_phone, "call.ended", call);

    const auto message = call_message(port(), ann, chat, call);
    EXPECT_TRUE(message["content"].get<std::string>().starts_with("Video call, 0:")) << message.dump();
    EXPECT_EQ(message["sender_id"], ann.id);
    EXPECT_EQ(message["metadata"]["event"], "call.completed");
    EXPECT_EQ(message["metadata"]["kind"], "video");
    EXPECT_EQ(message["metadata"]["duration_ms"], ended["duration_ms"]);
    EXPECT_TRUE(wait_for(*bob_phone, "message.new", about_message(message["id"]))) << "it syncs as any message";

    EXPECT_EQ(
        refusal(ws_request(*ann_ws, "call.signal",
                           {{"call_id", call}, {"to_user_id", bob.id}, {"kind", "candidate"}, {"payload", candidate}})),
        "not_found")
        << "a candidate for a call that has ended";
    EXPECT_EQ(refusal(ws_request(*ann_ws, "call.hangup", {{"call_id", call}})), "not_found");
}

TEST_F(CallsTest, ADeviceThatConnectsWhileACallRingsRingsToo) {
    auto ann = register_user(port(), "cl");
    auto bob = register_user(port(), "cl");
    const std::string chat = create_direct(port(), ann, bob)["id"];
    auto ann_ws = ws_connect(port(), ann.token);
    const std::string call = start_call(*ann_ws, chat)["id"];

    auto bob_ws = ws_connect(port(), bob.token);
    EXPECT_EQ(frame(*bob_ws, "call.ring", call)["data"]["call"]["state"], "ringing");
    acked(*bob_ws, "call.accept", {{"call_id", call}});
    auto ann_tablet = ws_connect(port(), login(port(), ann.username));
    EXPECT_TRUE(NoFrameBefore(*ann_tablet, frame_of("call.ring"), direct_message_marker(port(), bob, ann)))
        << "the caller's other device does not ring";
    acked(*ann_ws, "call.hangup", {{"call_id", call}});
}

TEST_F(CallsTest, ADeclinedCallAndACancelledOneLeaveTheirSystemMessages) {
    auto ann = register_user(port(), "cd");
    auto bob = register_user(port(), "cd");
    const std::string chat = create_direct(port(), ann, bob)["id"];
    auto ann_ws = ws_connect(port(), ann.token);
    auto bob_ws = ws_connect(port(), bob.token);

    const std::string declined = start_call(*ann_ws, chat, "video")["id"];
    frame(*bob_ws, "call.ring", declined);
    EXPECT_EQ(refusal(ws_request(*ann_ws, "call.decline", {{"call_id", declined}})), "conflict/not_ringing")
        << "the caller does not decline their own call";
    acked(*bob_ws, "call.decline", {{"call_id", declined}});
    EXPECT_EQ(frame(*bob_ws, "call.ring_stopped", declined)["data"]["reason"], "declined");
    EXPECT_EQ(frame(*ann_ws, "call.ended", declined)["data"]["call"]["outcome"], "declined");
    const auto declined_message = call_message(port(), bob, chat, declined);
    EXPECT_EQ(declined_message["content"], "Declined video call");
    EXPECT_EQ(declined_message["metadata"]["event"], "call.declined");
    EXPECT_EQ(declined_message["metadata"]["duration_ms"], 0);

    const std::string cancelled = start_call(*ann_ws, chat)["id"];
    frame(*bob_ws, "call.ring", cancelled);
    acked(*ann_ws, "call.cancel", {{"call_id", cancelled}});
    EXPECT_EQ(frame(*bob_ws, "call.ring_stopped", cancelled)["data"]["reason"], "cancelled");
    EXPECT_EQ(frame(*bob_ws, "call.ended", cancelled)["data"]["call"]["outcome"], "missed");
    EXPECT_EQ(call_message(port(), bob, chat, cancelled)["content"], "Missed voice call");
    EXPECT_EQ(refusal(ws_request(*bob_ws, "call.accept", {{"call_id", cancelled}})), "not_found");
}

// docs/api.md, Chats: the next message in a direct chat one member deleted shows it to them
// again, chat.created before its message.new; a call's summary as much as a send.
TEST_F(CallsTest, ACallsSummaryShowsADeletedDirectChatAgainWithChatCreatedFirst) {
    auto ann = register_user(port(), "cs");
    auto bob = register_user(port(), "cs");
    const std::string chat = create_direct(port(), ann, bob)["id"];
    auto ann_ws = ws_connect(port(), ann.token);
    auto bob_ws = ws_connect(port(), bob.token);
    ASSERT_EQ(del(port(), bob.token, chat_url(chat)).status, 204);
    ASSERT_TRUE(wait_for(*bob_ws, "chat.deleted", about_chat(chat)).has_value());

    const std::string cancelled = start_call(*ann_ws, chat)["id"];
    frame(*bob_ws, "call.ring", cancelled);
    acked(*ann_ws, "call.cancel", {{"call_id", cancelled}});
    const auto summary = call_message(port(), bob, chat, cancelled);
    auto before = frames_until(*bob_ws, frame_of("message.new", about_message(summary["id"])));
    ASSERT_TRUE(before.has_value()) << "the summary reaches the one who deleted the chat";
    const auto created = std::find_if(before->begin(), before->end(), frame_of("chat.created", about_chat(chat)));
    ASSERT_NE(created, before->end()) << "chat.created comes before the message.new";
    EXPECT_EQ((*created)["data"]["chat"]["last_message"]["id"], summary["id"]);
}

TEST_F(CallsTest, ABusyCalleeIsRefusedAndACallerInACallStartsNoOther) {
    auto ann = register_user(port(), "cy");
    auto bob = register_user(port(), "cy");
    auto cat = register_user(port(), "cy");
    const std::string ann_bob = create_direct(port(), ann, bob)["id"];
    const std::string cat_bob = create_direct(port(), cat, bob)["id"];
    const std::string ann_cat = create_direct(port(), ann, cat)["id"];
    auto ann_ws = ws_connect(port(), ann.token);
    auto bob_ws = ws_connect(port(), bob.token);
    auto cat_ws = ws_connect(port(), cat.token);

    const std::string call = start_call(*ann_ws, ann_bob)["id"];
    acked(*bob_ws, "call.accept", {{"call_id", call}});
    EXPECT_EQ(refusal(ws_request(*cat_ws, "call.start", {{"chat_id", cat_bob}, {"kind", "voice"}})), "conflict/busy");
    EXPECT_EQ(refusal(ws_request(*ann_ws, "call.start", {{"chat_id", ann_cat}, {"kind", "voice"}})),
              "conflict/in_call");
    EXPECT_TRUE(NoFrameBefore(*cat_ws, frame_of("call.ring"), direct_message_marker(port(), ann, cat)))
        << "nobody rang";

    acked(*ann_ws, "call.hangup", {{"call_id", call}});
    frame(*bob_ws, "call.ended", call);
    const std::string next = start_call(*cat_ws, cat_bob)["id"];
    frame(*bob_ws, "call.ring", next);
    acked(*cat_ws, "call.cancel", {{"call_id", next}});
}

TEST_F(CallsTest, NonMembersAndNonParticipantsCannotSignalIntoACall) {
    auto ann = register_user(port(), "cn");
    auto bob = register_user(port(), "cn");
    auto cat = register_user(port(), "cn");
    auto eve = register_user(port(), "cn");
    const std::string group = create_group(port(), ann, {bob.id, cat.id})["id"];
    auto ann_ws = ws_connect(port(), ann.token);
    auto bob_ws = ws_connect(port(), bob.token);
    auto cat_ws = ws_connect(port(), cat.token);
    auto eve_ws = ws_connect(port(), eve.token);

    const std::string call = start_call(*ann_ws, group)["id"];
    acked(*bob_ws, "call.accept", {{"call_id", call}});
    const json payload{{"type", "offer"}, {"sdp", "v=0"}};
    const json signal{{"call_id", call}, {"to_user_id", ann.id}, {"kind", "offer"}, {"payload", payload}};

    EXPECT_EQ(refusal(ws_request(*eve_ws, "call.signal", signal)), "not_found") << "a non-member learns nothing";
    EXPECT_EQ(refusal(ws_request(*eve_ws, "call.accept", {{"call_id", call}})), "not_found");
    EXPECT_EQ(refusal(ws_request(*eve_ws, "call.join", {{"call_id", call}})), "not_found");
    EXPECT_EQ(refusal(ws_request(*eve_ws, "call.start", {{"chat_id", group}, {"kind", "voice"}})), "not_found");
    EXPECT_EQ(refusal(ws_request(*cat_ws, "call.signal", signal)), "forbidden") << "cat rings, but is not in it";
    auto to_cat = signal;
    to_cat["to_user_id"] = cat.id;
    EXPECT_EQ(refusal(ws_request(*bob_ws, "call.signal", to_cat)), "not_found") << "cat is no participant";
    EXPECT_TRUE(NoFrameBefore(*ann_ws, frame_of("call.signal"), direct_message_marker(port(), eve, ann)));

    auto bad = signal;
    bad["kind"] = "hello";
    EXPECT_EQ(refusal(ws_request(*bob_ws, "call.signal", bad)), "bad_request");
    bad = signal;
    bad["payload"] = "v=0";
    EXPECT_EQ(refusal(ws_request(*bob_ws, "call.signal", bad)), "bad_request");
    bad = signal;
    bad["to_user_id"] = "nope";
    const auto malformed = ws_request(*bob_ws, "call.signal", bad);
    EXPECT_EQ(refusal(malformed), "bad_request") << "a malformed id, not an unknown participant";
    EXPECT_EQ(malformed["error"]["details"]["field"], "to_user_id");
    bad = signal;
    bad["payload"] = json::parse(R"({"sdp": "v=0", "n": 18446744073709551616})");
    const auto inexact = ws_request(*bob_ws, "call.signal", bad);
    EXPECT_EQ(refusal(inexact), "bad_request") << "it would reach ann changed";
    EXPECT_EQ(inexact["error"]["details"]["field"], "payload");
    EXPECT_EQ(refusal(ws_request(*ann_ws, "call.start", {{"chat_id", group}, {"kind", "hologram"}})), "bad_request");
    EXPECT_EQ(refusal(ws_request(*ann_ws, "call.accept", {{"call_id", "not-a-uuid"}})), "bad_request");
    EXPECT_EQ(refusal(ws_request(*ann_ws, "call.accept", {{"call_id", random_uuid()}})), "not_found");
    acked(*ann_ws, "call.hangup", {{"call_id", call}});
    acked(*bob_ws, "call.hangup", {{"call_id", call}});
}

TEST_F(CallsTest, AGroupCallIsAMeshMembersJoinAndLeaveUpToItsLimit) {
    auto ann = register_user(port(), "cg");
    auto bob = register_user(port(), "cg");
    auto cat = register_user(port(), "cg");
    auto dan = register_user(port(), "cg");
    const std::string group = create_group(port(), ann, {bob.id, cat.id, dan.id})["id"];
    auto ann_ws = ws_connect(port(), ann.token);
    auto bob_ws = ws_connect(port(), bob.token);
    auto cat_ws = ws_connect(port(), cat.token);
    auto dan_ws = ws_connect(port(), dan.token);

    const auto started = start_call(*ann_ws, group);
    const std::string call = started["id"];
    EXPECT_EQ(started["ringing"].size(), 3u);
    for (auto* ws : {bob_ws.get(), cat_ws.get(), dan_ws.get()}) frame(*ws, "call.ring", call);
    EXPECT_EQ(refusal(ws_request(*cat_ws, "call.join", {{"call_id", call}})), "conflict/not_answered");

    acked(*bob_ws, "call.accept", {{"call_id", call}});
    const auto joined = acked(*cat_ws, "call.join", {{"call_id", call}})["call"];
    EXPECT_EQ(joined["participants"].size(), 3u);
    EXPECT_EQ(frame(*cat_ws, "call.ring_stopped", call)["data"]["reason"], "answered");
    EXPECT_EQ(refusal(ws_request(*dan_ws, "call.accept", {{"call_id", call}})), "conflict/call_full");
    EXPECT_EQ(refusal(ws_request(*cat_ws, "call.join", {{"call_id", call}})), "conflict/already_joined");

    acked(*bob_ws, "call.leave", {{"call_id", call}});
    const auto after_bob = updated_where(*ann_ws, call, [&](const json& c) {
        return c["state"] == "active" && !has_participant(c, bob.id);
    });
    EXPECT_TRUE(has_participant(after_bob, cat.id));
    acked(*dan_ws, "call.accept", {{"call_id", call}});
    EXPECT_EQ(refusal(ws_request(*bob_ws, "call.join", {{"call_id", call}})), "conflict/call_full");
    acked(*ann_ws, "call.leave", {{"call_id", call}});
    const auto back = acked(*bob_ws, "call.join", {{"call_id", call}})["call"];
    EXPECT_TRUE(has_participant(back, bob.id)) << "a member who left may come back";
    EXPECT_FALSE(has_participant(back, ann.id)) << "the caller's leaving ends nothing while two remain";
    for (auto* ws : {bob_ws.get(), cat_ws.get()}) acked(*ws, "call.leave", {{"call_id", call}});
    const auto ended = frame(*ann_ws, "call.ended", call)["data"]["call"];
    EXPECT_EQ(ended["outcome"], "completed");
    EXPECT_EQ(call_message(port(), dan, group, call)["metadata"]["event"], "call.completed");
}

// Whoever leaves the chat leaves its call at once and hears no more of it: a banned
// participant is out of the call for the others and can be sent no signal; a removed callee
// stops ringing.
TEST_F(CallsTest, AMemberRemovedFromTheChatLeavesItsCall) {
    auto ann = register_user(port(), "cr");
    auto bob = register_user(port(), "cr");
    auto cat = register_user(port(), "cr");
    auto dan = register_user(port(), "cr");
    const std::string group = create_group(port(), ann, {bob.id, cat.id, dan.id})["id"];
    auto ann_ws = ws_connect(port(), ann.token);
    auto bob_ws = ws_connect(port(), bob.token);
    auto cat_ws = ws_connect(port(), cat.token);
    auto dan_ws = ws_connect(port(), dan.token);
    const std::string call = start_call(*ann_ws, group)["id"];
    acked(*bob_ws, "call.accept", {{"call_id", call}});
    acked(*cat_ws, "call.accept", {{"call_id", call}});

    ASSERT_TRUE(IsJson(post(port(), ann.token, chat_url(group) + "/bans", {{"user_id", cat.id}}), 201));
    // The one state of the call with bob in it, cat out of it and dan still rung.
    updated_where(*bob_ws, call, [&](const json& c) {
        return has_participant(c, bob.id) && !has_participant(c, cat.id) && c["ringing"] == json{dan.id};
    });
    const auto state_after = [](const std::function<bool(const json& call)>& pred) -> FramePred {
        return [pred](const json& f) {
            const auto type = f.value("type", "");
            return type == "call.ended" || (type == "call.updated" && pred(f["data"]["call"]));
        };
    };
    const json to_cat{{"call_id", call},
                      {"to_user_id", cat.id},
                      {"kind", "offer"},
                      {"payload", {{"type", "offer"}, {"sdp", "v=0"}}}};
    EXPECT_EQ(refusal(ws_request(*bob_ws, "call.signal", to_cat)), "not_found") << "cat is in the call no more";

    ASSERT_EQ(del(port(), ann.token, member_url(group, dan.id)).status, 204);
    EXPECT_EQ(frame(*dan_ws, "call.ring_stopped", call)["data"]["reason"], "cancelled");
    updated_where(*ann_ws, call, [](const json& c) { return c["ringing"].empty(); });

    acked(*bob_ws, "call.leave", {{"call_id", call}});
    EXPECT_EQ(frame(*ann_ws, "call.ended", call)["data"]["call"]["outcome"], "completed");
    // What the call came to after each left it, which they must not hear (their earlier frames
    // are still unread).
    EXPECT_TRUE(NoFrameBefore(*cat_ws, state_after([&](const json& c) {
        return !has_participant(c, cat.id) && c["ringing"].size() <= 1;
    }),
                              direct_message_marker(port(), ann, cat)));
    EXPECT_TRUE(NoFrameBefore(*dan_ws, state_after([](const json& c) { return c["ringing"].empty(); }),
                              direct_message_marker(port(), ann, dan)));
}

// A deleted group's call ends with it: its participants are free for other calls at once and
// its callees stop ringing, and none of them hears of it again.
TEST_F(CallsTest, DeletingTheGroupEndsItsCall) {
    auto ann = register_user(port(), "cd");
    auto bob = register_user(port(), "cd");
    auto cat = register_user(port(), "cd");
    const std::string group = create_group(port(), ann, {bob.id, cat.id})["id"];
    const std::string elsewhere = create_group(port(), bob, {cat.id})["id"];
    auto bob_ws = ws_connect(port(), bob.token);
    auto cat_ws = ws_connect(port(), cat.token);
    auto ann_ws = ws_connect(port(), ann.token);
    const std::string call = start_call(*ann_ws, group)["id"];
    acked(*bob_ws, "call.accept", {{"call_id", call}});
    updated_where(*cat_ws, call, [&](const json& c) { return has_participant(c, bob.id); });

    ASSERT_EQ(del(port(), ann.token, chat_url(group)).status, 204);
    EXPECT_EQ(frame(*cat_ws, "call.ring_stopped", call)["data"]["reason"], "cancelled");
    EXPECT_EQ(refusal(ws_request(*bob_ws, "call.hangup", {{"call_id", call}})), "not_found");
    const std::string next = start_call(*bob_ws, elsewhere)["id"];
    EXPECT_EQ(frame(*cat_ws, "call.ring", next)["data"]["call"]["chat_id"], elsewhere) << "bob is free, cat too";
    auto late_ws = ws_connect(port(), ann.token);
    EXPECT_TRUE(NoFrameBefore(*late_ws, of_call(call), direct_message_marker(port(), bob, ann)))
        << "a new connection hears nothing of the deleted group's call";
}

// A page loaded after a group call started asks for it: every member sees it, also one who
// was not rung (in another call) and one who joined the chat after it started, who may join
// the call; nobody else learns of it, and it is gone once it ends.
TEST_F(CallsTest, AChatsRunningCallIsShownToItsMembersUntilItEnds) {
    auto ann = register_user(port(), "cr");
    auto bob = register_user(port(), "cr");
    auto cat = register_user(port(), "cr");
    auto dan = register_user(port(), "cr");
    auto eve = register_user(port(), "cr");
    const std::string group = create_group(port(), ann, {bob.id, cat.id})["id"];
    const std::string cat_eve = create_direct(port(), cat, eve)["id"];
    auto ann_ws = ws_connect(port(), ann.token);
    auto bob_ws = ws_connect(port(), bob.token);
    auto cat_ws = ws_connect(port(), cat.token);
    auto eve_ws = ws_connect(port(), eve.token);

    EXPECT_TRUE(HasReason(get(port(), ann.token, running_call_url(group)), 404, "not_found", "no_call"));
    const std::string other = start_call(*eve_ws, cat_eve)["id"];
    acked(*cat_ws, "call.accept", {{"call_id", other}});
    const auto started = start_call(*ann_ws, group, "video");
    const std::string call = started["id"];
    EXPECT_EQ(started["ringing"], json::array({bob.id})) << "cat is in another call: not rung";

    const auto ringing = expect_json(get(port(), cat.token, running_call_url(group)), 200, "running call");
    EXPECT_TRUE(IsCallModel(ringing));
    EXPECT_EQ(ringing, started) << "the call as its frames carry it";
    acked(*bob_ws, "call.accept", {{"call_id", call}});
    acked(*cat_ws, "call.hangup", {{"call_id", other}});
    EXPECT_EQ(refusal(ws_request(*cat_ws, "call.start", {{"chat_id", group}, {"kind", "voice"}})),
              "conflict/call_running")
        << "one call per chat: join it instead";

    add_members(port(), ann, group, {dan.id});
    const auto active = expect_json(get(port(), dan.token, running_call_url(group)), 200, "running call");
    EXPECT_EQ(active["id"], call);
    EXPECT_EQ(active["state"], "active");
    EXPECT_EQ(active["kind"], "video");
    EXPECT_TRUE(has_participant(active, bob.id));
    auto dan_ws = ws_connect(port(), dan.token);
    EXPECT_TRUE(has_participant(acked(*dan_ws, "call.join", {{"call_id", call}})["call"], dan.id))
        << "a member who came after the call started joins it";

    EXPECT_TRUE(IsError(get(port(), eve.token, running_call_url(group)), 404, "not_found"));
    EXPECT_FALSE(get(port(), eve.token, running_call_url(group)).json()["error"].contains("details"))
        << "a non-member learns nothing of the chat";
    EXPECT_TRUE(IsError(get(port(), eve.token, running_call_url(random_uuid())), 404, "not_found"));
    EXPECT_TRUE(IsError(get(port(), ann.token, running_call_url("not-a-uuid")), 400, "bad_request"));
    EXPECT_EQ(get(port(), "", running_call_url(group)).status, 401);

    for (auto* ws : {ann_ws.get(), bob_ws.get()}) acked(*ws, "call.leave", {{"call_id", call}});
    frame(*cat_ws, "call.ended", call);  // dan was the last one in it
    EXPECT_TRUE(HasReason(get(port(), cat.token, running_call_url(group)), 404, "not_found", "no_call"));
    EXPECT_EQ(call_message(port(), ann, group, call)["metadata"]["event"], "call.completed");
}

// A device that connects (or reconnects) while a call runs in its user's chats hears of it
// at once, as call.updated, with no request per chat; others hear nothing.
TEST_F(CallsTest, AConnectionThatOpensWhileACallRunsGetsItAsCallUpdated) {
    auto ann = register_user(port(), "cu");
    auto bob = register_user(port(), "cu");
    auto cat = register_user(port(), "cu");
    auto eve = register_user(port(), "cu");
    const std::string group = create_group(port(), ann, {bob.id, cat.id})["id"];
    auto ann_ws = ws_connect(port(), ann.token);
    auto bob_ws = ws_connect(port(), bob.token);
    const std::string call = start_call(*ann_ws, group)["id"];
    acked(*bob_ws, "call.accept", {{"call_id", call}});

    auto cat_ws = ws_connect(port(), cat.token);
    const auto heard = updated_where(*cat_ws, call, [](const json& c) { return c["state"] == "active"; });
    EXPECT_TRUE(IsCallModel(heard));
    EXPECT_TRUE(has_participant(heard, bob.id));
    EXPECT_EQ(heard["chat_id"], group);
    auto eve_ws = ws_connect(port(), eve.token);
    EXPECT_TRUE(NoFrameBefore(*eve_ws, frame_of("call.updated"), direct_message_marker(port(), ann, eve)))
        << "not a member: nothing";

    acked(*bob_ws, "call.leave", {{"call_id", call}});
    acked(*cat_ws, "call.decline", {{"call_id", call}});
    frame(*cat_ws, "call.ended", call);
    auto cat_again = ws_connect(port(), cat.token);
    EXPECT_TRUE(NoFrameBefore(*cat_again, frame_of("call.updated"), direct_message_marker(port(), ann, cat)))
        << "an ended call is not told again";
}

// call.updated and call.ended go to whoever is a member of the chat as the call changes, not
// only to its members when it started: one who came to the chat after the call started hears
// of it, and, having joined it, hears each change of it up to its end.
TEST_F(CallsTest, MembersWhoCameAfterACallStartedHearItUntilItEnds) {
    auto ann = register_user(port(), "cm");
    auto bob = register_user(port(), "cm");
    auto cat = register_user(port(), "cm");
    auto dan = register_user(port(), "cm");
    auto eve = register_user(port(), "cm");
    const std::string group = create_group(port(), ann, {bob.id, cat.id})["id"];
    auto ann_ws = ws_connect(port(), ann.token);
    auto bob_ws = ws_connect(port(), bob.token);
    auto cat_ws = ws_connect(port(), cat.token);
    auto dan_ws = ws_connect(port(), dan.token);
    auto eve_ws = ws_connect(port(), eve.token);
    const std::string call = start_call(*ann_ws, group)["id"];
    acked(*bob_ws, "call.accept", {{"call_id", call}});
    acked(*cat_ws, "call.decline", {{"call_id", call}});

    add_members(port(), ann, group, {dan.id, eve.id});
    for (auto* ws : {dan_ws.get(), eve_ws.get()})
        updated_where(*ws, call, [&](const json& c) { return has_participant(c, bob.id); });  // told on joining
    EXPECT_TRUE(has_participant(acked(*dan_ws, "call.join", {{"call_id", call}})["call"], dan.id));
    const std::vector<WsClient*> newcomers{dan_ws.get(), eve_ws.get()};  // eve is a member, not in the call

    acked(*ann_ws, "call.screen_share.start", {{"call_id", call}});
    for (auto* ws : newcomers)
        updated_where(*ws, call, [&](const json& c) {
            for (const auto& participant : c["participants"])
                if (participant["user_id"] == ann.id) return participant["screen_sharing"].get<bool>();
            return false;
        });
    acked(*bob_ws, "call.leave", {{"call_id", call}});
    for (auto* ws : newcomers)
        updated_where(*ws, call,
                      [&](const json& c) { return has_participant(c, dan.id) && !has_participant(c, bob.id); });
    acked(*ann_ws, "call.leave", {{"call_id", call}});
    for (auto* ws : newcomers) EXPECT_EQ(frame(*ws, "call.ended", call)["data"]["call"]["outcome"], "completed");
}

// A call is taken per device (a signed-in session): the other devices of its participants see
// its state but are not in it, so they may not hang it up (nor cancel it, the caller's), share a
// screen in it or signal from it; the call goes on between the devices in it.
TEST_F(CallsTest, OnlyTheDeviceInTheCallHangsUpSharesAScreenOrSignals) {
    auto ann = register_user(port(), "cv");
    auto bob = register_user(port(), "cv");
    const std::string chat = create_direct(port(), ann, bob)["id"];
    auto ann_ws = ws_connect(port(), ann.token);
    auto ann_tablet = ws_connect(port(), login(port(), ann.username));
    auto bob_phone = ws_connect(port(), bob.token);
    auto bob_laptop = ws_connect(port(), login(port(), bob.username));
    const std::string call = start_call(*ann_ws, chat)["id"];
    const auto offer = [&](const std::string& to_user_id, const std::string& sdp) {
        return json{{"call_id", call},
                    {"to_user_id", to_user_id},
                    {"kind", "offer"},
                    {"payload", {{"type", "offer"}, {"sdp", sdp}}}};
    };
    acked(*bob_laptop, "call.accept", {{"call_id", call}});

    EXPECT_EQ(refusal(ws_request(*bob_phone, "call.signal", offer(ann.id, "v=0 phone"))), "forbidden");
    EXPECT_EQ(refusal(ws_request(*bob_phone, "call.screen_share.start", {{"call_id", call}})), "forbidden");
    EXPECT_EQ(refusal(ws_request(*ann_tablet, "call.signal", offer(bob.id, "v=0 tablet"))), "forbidden");
    EXPECT_EQ(refusal(ws_request(*bob_phone, "call.hangup", {{"call_id", call}})), "forbidden");
    EXPECT_EQ(refusal(ws_request(*ann_tablet, "call.hangup", {{"call_id", call}})), "forbidden");

    acked(*bob_laptop, "call.signal", offer(ann.id, "v=0 laptop"));
    EXPECT_EQ(frame(*ann_ws, "call.signal", call)["data"]["payload"]["sdp"], "v=0 laptop")
        << "the first signal ann gets is the laptop's";
    const auto running = expect_json(get(port(), ann.token, running_call_url(chat)), 200, "running call");
    EXPECT_EQ(running["state"], "active");
    for (const auto& participant : running["participants"])
        EXPECT_FALSE(participant["screen_sharing"].get<bool>()) << running.dump();
    acked(*bob_laptop, "call.hangup", {{"call_id", call}});
    EXPECT_EQ(frame(*ann_ws, "call.ended", call)["data"]["call"]["outcome"], "completed");

    const std::string unanswered = start_call(*ann_ws, chat)["id"];
    EXPECT_EQ(refusal(ws_request(*ann_tablet, "call.cancel", {{"call_id", unanswered}})), "forbidden")
        << "the caller's other device is not in the call";
    acked(*ann_ws, "call.cancel", {{"call_id", unanswered}});
    EXPECT_EQ(frame(*bob_phone, "call.ring_stopped", unanswered)["data"]["reason"], "cancelled");
}

TEST_F(CallsTest, IceServersCarryShortLivedTurnCredentials) {
    auto ann = register_user(port(), "ci");
    const auto r = get(port(), ann.token, "/api/v1/calls/ice-servers");
    ASSERT_EQ(r.status, 200) << r.describe();
    const auto body = r.json();
    EXPECT_EQ(body["ttl_seconds"], 600);
    ASSERT_EQ(body["ice_servers"].size(), 1u) << body.dump();
    const auto& server = body["ice_servers"][0];
    EXPECT_EQ(server["urls"], json::array({turn_url(), "stun:127.0.0.1"}));
    const std::string username = server["username"];
    const auto colon = username.find(':');
    ASSERT_NE(colon, std::string::npos) << username;
    EXPECT_EQ(username.substr(colon + 1), ann.id);
    const auto expiry = std::stoll(username.substr(0, colon));
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    EXPECT_GE(expiry, now + 590);
    EXPECT_LE(expiry, now + 610);
    EXPECT_TRUE(body["expires_at"].is_string());
    // base64 of a 20-byte HMAC-SHA1; its value is the unit tests' (TurnCredentialsFollowTheTurnRestApi).
    const std::string credential = server["credential"];
    unsigned char raw[64];
    std::size_t length = 0;
    ASSERT_EQ(sodium_base642bin(raw, sizeof raw, credential.data(), credential.size(), nullptr, &length, nullptr,
                                sodium_base64_VARIANT_ORIGINAL),
              0)
        << credential;
    EXPECT_EQ(length, 20u);
    EXPECT_TRUE(IsError(get(port(), "", "/api/v1/calls/ice-servers"), 401, "unauthorized"));
}

TEST_F(CallsTest, CoturnRelaysForTheHandedOutCredentialsOnly) {
    if (!turn_installed()) GTEST_SKIP() << "coturn is not installed";
    auto ann = register_user(port(), "cu");
    const auto server =
        expect_json(get(port(), ann.token, "/api/v1/calls/ice-servers"), 200, "ice-servers")["ice_servers"][0];
    const Coturn coturn;
    // Polled: coturn listens a moment after it starts.
    EXPECT_TRUE(eventually([&] { return turn_allocates(server["username"], server["credential"]); }, 15s));
    EXPECT_FALSE(turn_allocates(server["username"], "AAAA" + server["credential"].get<std::string>()));
    auto forged = server["username"].get<std::string>();
    forged.back() = forged.back() == '0' ? '1' : '0';
    EXPECT_FALSE(turn_allocates(forged, server["credential"])) << "the credential is bound to the user";
}

// A server whose rings and reconnect graces run out within a test.
std::map<std::string, std::string> quick_timeouts() {
    return {{"CONFAB_CALLS_RING_TIMEOUT_MS", "500"}, {"CONFAB_CALLS_RECONNECT_GRACE_MS", "300"}};
}

using CallTimeoutsTest = OwnServerSuite<quick_timeouts>;

TEST_F(CallTimeoutsTest, AnUnansweredCallIsMissed) {
    auto ann = register_user(port(), "ct");
    auto bob = register_user(port(), "ct");
    const std::string chat = create_direct(port(), ann, bob)["id"];
    auto ann_ws = ws_connect(port(), ann.token);
    auto bob_ws = ws_connect(port(), bob.token);

    const std::string call = start_call(*ann_ws, chat)["id"];
    frame(*bob_ws, "call.ring", call);
    EXPECT_EQ(frame(*bob_ws, "call.ring_stopped", call)["data"]["reason"], "missed");
    const auto ended = frame(*ann_ws, "call.ended", call)["data"]["call"];
    EXPECT_EQ(ended["outcome"], "missed");
    EXPECT_TRUE(ended["answered_at"].is_null());
    const auto message = call_message(port(), bob, chat, call);
    EXPECT_EQ(message["content"], "Missed voice call");
    EXPECT_EQ(message["metadata"]["event"], "call.missed");
    EXPECT_EQ(message["metadata"]["user_id"], ann.id);
}

TEST_F(CallTimeoutsTest, ACallEndsWhenAParticipantsLastConnectionStaysGone) {
    auto ann = register_user(port(), "cr");
    auto bob = register_user(port(), "cr");
    const std::string chat = create_direct(port(), ann, bob)["id"];
    auto ann_ws = ws_connect(port(), ann.token);
    auto bob_ws = ws_connect(port(), bob.token);

    const std::string call = start_call(*ann_ws, chat)["id"];
    acked(*bob_ws, "call.accept", {{"call_id", call}});
    bob_ws->close();
    updated_where(*ann_ws, call, [&](const json& c) {
        for (const auto& participant : c["participants"])
            if (participant["user_id"] == bob.id) return participant["connected"] == false;
        return false;
    });  // bob is shown without a connection during the grace
    const auto ended = frame(*ann_ws, "call.ended", call)["data"]["call"];
    EXPECT_EQ(ended["outcome"], "completed");
    EXPECT_TRUE(call_message(port(), ann, chat, call)["content"].get<std::string>().starts_with("Voice call, 0:"));
}

}  // namespace
}  // namespace confab::test
