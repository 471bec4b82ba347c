// Message translation (docs/api.md, Translation): GET /messages/{id}/translation asks the
// configured provider (here a fake LibreTranslate in this process, support/fake_http_server)
// and keeps its answer per message, language and content; an edit or a delete discards it.
// Without a provider, and when the provider fails or hangs, the answer is a clear 503.

#include "support/chat_api.hpp"
#include "support/fake_http_server.hpp"

#include <gtest/gtest.h>

#include <future>
#include <memory>

namespace confab::test {
namespace {

const std::string api_key = "the provider's key";

std::string translation_url(const std::string& message_id, const std::string& query) {
    return message_url(message_id) + "/translation?" + query;
}

// LibreTranslate's answer: the text marked with the target language, English detected.
FakeHttpServer::Reply translated(const FakeHttpServer::Request& request) {
    const auto asked = json::parse(request.body);
    return {200,
            json{{"translatedText", "[" + asked["target"].get<std::string>() + "] " + asked["q"].get<std::string>()},
                 {"detectedLanguage", {{"language", "en"}, {"confidence", 90.0}}}}
                .dump()};
}

::testing::AssertionResult IsRefusedFor(const HttpResponse& r, const std::string& reason) {
    auto shape = IsError(r, 503, "unavailable");
    if (!shape) return shape;
    const auto details = r.json()["error"]["details"];
    if (details.value("reason", "") != reason)
        return ::testing::AssertionFailure() << "details.reason is not " << reason << ": " << r.body;
    if (r.header("Retry-After").empty()) return ::testing::AssertionFailure() << "no Retry-After: " << r.body;
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult IsBadLanguage(const HttpResponse& r, const std::string& field) {
    auto shape = IsError(r, 400, "bad_request");
    if (!shape) return shape;
    if (r.json()["error"]["details"].value("field", "") != field)
        return ::testing::AssertionFailure() << "details.field is not " << field << ": " << r.body;
    return ::testing::AssertionSuccess();
}

// A server whose provider is `provider_` (a fake that translates unless a test says
// otherwise), with one I/O thread: a provider call that held it would stop every request.
class TranslationTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (!TestDatabase::configured()) return;
        provider_ = std::make_unique<FakeHttpServer>(translated);
        server_ = std::make_unique<ServerProcess>(shared_database().url(), translating());
    }
    static std::map<std::string, std::string> translating(std::map<std::string, std::string> more = {}) {
        more.insert({{"CONFAB_TRANSLATION_URL", provider_->url() + "/"},
                     {"CONFAB_TRANSLATION_API_KEY", api_key},
                     {"CONFAB_TRANSLATION_TIMEOUT_MS", "60000"},
                     {"CONFAB_IO_THREADS", "1"}});
        return more;
    }
    static void TearDownTestSuite() {
        server_.reset();
        provider_.reset();
    }
    void SetUp() override {
        CONFAB_REQUIRE_DATABASE();
        provider_->set_handler(translated);
    }
    static std::uint16_t port() { return server_->port(); }

    // Ann's group with Bob, and a text of Ann's in it.
    struct Scene {
        TestUser ann, bob;
        std::string chat_id;
        json message;
    };
    static Scene scene(const std::string& text = "Good morning") {
        Scene s{register_user(port(), "ann"), register_user(port(), "bob"), {}, {}};
        s.chat_id = create_group(port(), s.ann, {s.bob.id})["id"];
        s.message = send_text(port(), s.ann, s.chat_id, text);
        return s;
    }

    static std::unique_ptr<FakeHttpServer> provider_;
    static std::unique_ptr<ServerProcess> server_;
};
std::unique_ptr<FakeHttpServer> TranslationTest::provider_;
std::unique_ptr<ServerProcess> TranslationTest::server_;

TEST_F(TranslationTest, TranslatesThroughTheProviderThenAnswersFromWhatItKept) {
    const auto s = scene("Good morning");
    const std::string id = s.message["id"];
    const auto before = provider_->request_count();

    const auto first = get(port(), s.bob.token, translation_url(id, "to=de"));
    ASSERT_TRUE(IsJson(first, 200)) << first.describe();
    EXPECT_EQ(first.json(), (json{{"message_id", id},
                                  {"language", "de"},
                                  {"source_language", "en"},
                                  {"text", "[de] Good morning"},
                                  {"message_version", s.message["version"]},
                                  {"cached", false}}));
    const auto calls = provider_->requests();
    ASSERT_EQ(calls.size(), before + 1);
    const auto& call = calls.back();
    EXPECT_EQ(call.method, "POST");
    EXPECT_EQ(call.target, "/translate") << "the configured URL's trailing slash is not doubled";
    EXPECT_EQ(call.headers.at("content-type"), "application/json");
    EXPECT_EQ(
        json::parse(call.body),
        (json{{"q", "Good morning"}, {"source", "auto"}, {"target", "de"}, {"format", "text"}, {"api_key", api_key}}));

    const auto again = get(port(), s.ann.token, translation_url(id, "to=de"));
    ASSERT_TRUE(IsJson(again, 200)) << again.describe();
    EXPECT_EQ(again.json()["text"], "[de] Good morning");
    EXPECT_EQ(again.json()["source_language"], "en") << "the detected language is kept too";
    EXPECT_EQ(again.json()["cached"], true);
    EXPECT_EQ(provider_->request_count(), before + 1) << "any member's same request is answered from what was kept";

    const auto french = get(port(), s.bob.token, translation_url(id, "to=fr"));
    ASSERT_TRUE(IsJson(french, 200)) << french.describe();
    EXPECT_EQ(french.json()["text"], "[fr] Good morning");
    EXPECT_EQ(french.json()["cached"], false) << "another language is another translation";

    const auto from_english = get(port(), s.bob.token, translation_url(id, "to=de&from=en-GB"));
    ASSERT_TRUE(IsJson(from_english, 200)) << from_english.describe();
    EXPECT_EQ(from_english.json()["source_language"], "en-GB") << "the source asked for, not the detected one";
    EXPECT_EQ(from_english.json()["cached"], false) << "a source asked for is another translation";
    EXPECT_EQ(json::parse(provider_->requests().back().body)["source"], "en-GB");
    EXPECT_EQ(provider_->request_count(), before + 3);
}

TEST_F(TranslationTest, AnEditIsTranslatedAnew) {
    const auto s = scene("Good morning");
    const std::string id = s.message["id"];
    ASSERT_EQ(get(port(), s.bob.token, translation_url(id, "to=de")).json()["cached"], false);
    const auto edited = put(port(), s.ann.token, message_url(id), {{"content", "Good evening"}});
    ASSERT_TRUE(IsJson(edited, 200)) << edited.describe();
    const auto before = provider_->request_count();

    const auto after_edit = get(port(), s.bob.token, translation_url(id, "to=de"));
    ASSERT_TRUE(IsJson(after_edit, 200)) << after_edit.describe();
    EXPECT_EQ(after_edit.json()["text"], "[de] Good evening");
    EXPECT_EQ(after_edit.json()["cached"], false);
    EXPECT_EQ(after_edit.json()["message_version"], edited.json()["version"]);
    ASSERT_EQ(provider_->request_count(), before + 1);
    EXPECT_EQ(json::parse(provider_->requests().back().body)["q"], "Good evening");
    EXPECT_EQ(get(port(), s.bob.token, translation_url(id, "to=de")).json()["cached"], true);
}

// A translation renders the text it was made from: it goes when the message is deleted, by
// its sender or with their account.
TEST_F(TranslationTest, ADeletedMessageKeepsNoTranslation) {
    const auto translations_of = [](const json& message) {
        return shared_database().query_value("SELECT count(*) FROM message_translations WHERE message_id = '" +
                                             message["id"].get<std::string>() + "'");
    };
    const auto s = scene("Good morning");
    ASSERT_EQ(get(port(), s.bob.token, translation_url(s.message["id"], "to=de")).status, 200);
    ASSERT_EQ(translations_of(s.message), "1");
    ASSERT_EQ(del(port(), s.ann.token, message_url(s.message["id"])).status, 204);
    EXPECT_EQ(translations_of(s.message), "0");

    ServerProcess removing(shared_database().url(), translating({{"CONFAB_DELETED_USER_MESSAGES", "remove"}}));
    const auto cid = register_user(removing.port(), "cid"), dee = register_user(removing.port(), "dee");
    const std::string chat = create_group(removing.port(), cid, {dee.id})["id"];
    const auto said = send_text(removing.port(), cid, chat, "Good night");
    ASSERT_EQ(get(removing.port(), dee.token, translation_url(said["id"], "to=de")).status, 200);
    ASSERT_EQ(translations_of(said), "1");
    ASSERT_EQ(del(removing.port(), cid.token, "/api/v1/users/me", json{{"password", kPassword}}).status, 204);
    EXPECT_EQ(get_message(removing.port(), dee, said["id"])["is_deleted"], true);
    EXPECT_EQ(translations_of(said), "0") << "the account's removed messages keep no translation";
}

TEST_F(TranslationTest, OnlyAMessageWithTextThatTheCallerReadsIsTranslated) {
    const auto s = scene();
    const std::string id = s.message["id"];
    const auto stranger = register_user(port(), "eve");
    const auto before = provider_->request_count();

    EXPECT_TRUE(IsError(get(port(), stranger.token, translation_url(id, "to=de")), 404, "not_found"));
    EXPECT_TRUE(IsError(get(port(), s.bob.token, translation_url(random_uuid(), "to=de")), 404, "not_found"));
    EXPECT_TRUE(IsError(get(port(), s.bob.token, translation_url("not-a-uuid", "to=de")), 400, "bad_request"));
    EXPECT_TRUE(IsError(get(port(), "", translation_url(id, "to=de")), 401, "unauthorized"));

    const auto hidden = send_text(port(), s.ann, s.chat_id, "hidden by Bob");
    ASSERT_EQ(post(port(), s.bob.token, message_url(hidden["id"]) + "/hide").status, 204);
    EXPECT_TRUE(IsError(get(port(), s.bob.token, translation_url(hidden["id"], "to=de")), 404, "not_found"));

    ASSERT_EQ(get(port(), s.bob.token, translation_url(id, "to=de")).status, 200);
    ASSERT_EQ(del(port(), s.ann.token, message_url(id)).status, 204);
    EXPECT_TRUE(IsError(get(port(), s.bob.token, translation_url(id, "to=de")), 409, "conflict"))
        << "a deleted message has no text, nor a kept translation";

    const auto removed = send_text(port(), s.ann, s.chat_id, "before Bob was removed");
    ASSERT_EQ(del(port(), s.ann.token, member_url(s.chat_id, s.bob.id)).status, 204);
    EXPECT_TRUE(IsError(get(port(), s.bob.token, translation_url(removed["id"], "to=de")), 404, "not_found"));
    const auto system = system_messages(port(), s.ann, s.chat_id);
    ASSERT_FALSE(system.empty()) << "the removal's";
    EXPECT_TRUE(IsError(get(port(), s.ann.token, translation_url(system.back()["id"], "to=de")), 400, "bad_request"));
    EXPECT_EQ(provider_->request_count(), before + 1) << "only the one readable text reached the provider";
}

TEST_F(TranslationTest, LanguagesAreTags) {
    const auto s = scene();
    const std::string id = s.message["id"];
    const auto before = provider_->request_count();
    for (const std::string query :
         {"", "to=", "to=DE", "to=german", "to=d", "to=de-", "to=de_DE", "to=de-x", "to=zh-Hans-CN-x1", "to=de%20"})
        EXPECT_TRUE(IsBadLanguage(get(port(), s.bob.token, translation_url(id, query)), "to")) << query;
    for (const std::string query : {"to=de&from=", "to=de&from=auto", "to=de&from=EN"})
        EXPECT_TRUE(IsBadLanguage(get(port(), s.bob.token, translation_url(id, query)), "from")) << query;
    EXPECT_EQ(provider_->request_count(), before);
    const auto tagged = get(port(), s.bob.token, translation_url(id, "to=zh-Hans&from=pt-BR"));
    ASSERT_TRUE(IsJson(tagged, 200)) << tagged.describe();
    EXPECT_EQ(tagged.json()["language"], "zh-Hans");
}

TEST_F(TranslationTest, AFailingProviderIsAClearErrorAndNothingIsKept) {
    const auto s = scene();
    const std::string id = s.message["id"];
    provider_->set_handler([](const FakeHttpServer::Request&) {
        return FakeHttpServer::Reply{500, R"({"error":"the model fell over"})"};
    });
    EXPECT_TRUE(IsRefusedFor(get(port(), s.bob.token, translation_url(id, "to=de")), "provider_error"));
    provider_->set_handler([](const FakeHttpServer::Request&) {
        return FakeHttpServer::Reply{200, "<html>not a translation</html>"};
    });
    EXPECT_TRUE(IsRefusedFor(get(port(), s.bob.token, translation_url(id, "to=de")), "provider_error"));
    provider_->set_handler([](const FakeHttpServer::Request&) {
        return FakeHttpServer::Reply{200, R"({"translatedText": 7})"};
    });
    EXPECT_TRUE(IsRefusedFor(get(port(), s.bob.token, translation_url(id, "to=de")), "provider_error"));
    // A text holding U+0000 could not be kept as it is: refused, the first time as the next.
    provider_->set_handler([](const FakeHttpServer::Request&) {
        return FakeHttpServer::Reply{200, R"({"translatedText": "Guten\u0000 Morgen"})"};
    });
    for (int time = 0; time < 2; ++time)
        EXPECT_TRUE(IsRefusedFor(get(port(), s.bob.token, translation_url(id, "to=de")), "provider_error")) << time;

    provider_->set_handler(translated);
    const auto recovered = get(port(), s.bob.token, translation_url(id, "to=de"));
    ASSERT_TRUE(IsJson(recovered, 200)) << recovered.describe();
    EXPECT_EQ(recovered.json()["cached"], false) << "a failure is not kept";
}

// docs/api.md, Translation: source_language is a language tag, as `to` is, or null; a detected
// language the provider names otherwise is answered as none, fresh and kept alike.
TEST_F(TranslationTest, ADetectedLanguageThatIsNoTagIsAnsweredAsNull) {
    const auto s = scene();
    const std::string id = s.message["id"];
    // Each with a language of its own, so that the first answer is the provider's, the second kept.
    const std::vector<std::pair<std::string, std::string>> cases{{"<b>x</b>", "de"},
                                                                 {"", "fr"},
                                                                 {"EN", "it"},
                                                                 {"english", "es"}};
    for (const auto& [detected, target] : cases) {
        SCOPED_TRACE(detected);
        const auto reply = json{{"translatedText", "x"}, {"detectedLanguage", {{"language", detected}}}}.dump();
        provider_->set_handler([reply](const FakeHttpServer::Request&) { return FakeHttpServer::Reply{200, reply}; });
        for (const bool kept : {false, true}) {
            const auto answer = get(port(), s.bob.token, translation_url(id, "to=" + target));
            ASSERT_TRUE(IsJson(answer, 200)) << answer.describe();
            EXPECT_EQ(answer.json()["cached"], kept);
            EXPECT_TRUE(answer.json()["source_language"].is_null()) << answer.body;
        }
    }
}

TEST_F(TranslationTest, AProviderThatHoldsItsAnswerStopsNoOtherRequest) {
    const auto s = scene("Hold on");
    const std::string id = s.message["id"];
    auto gate = std::make_shared<Gate>();
    provider_->set_handler([gate](const FakeHttpServer::Request& request) {
        gate->wait();
        return translated(request);
    });
    const auto before = provider_->request_count();
    auto held = std::async(std::launch::async, [&] { return get(port(), s.bob.token, translation_url(id, "to=de")); });
    ASSERT_TRUE(eventually([&] { return provider_->request_count() == before + 1; }))
        << "the translation reached the provider";

    // The server's only I/O thread is free while the provider holds its answer.
    const auto read = get(port(), s.ann.token, message_url(id));
    EXPECT_TRUE(IsJson(read, 200)) << read.describe();
    const auto other = send_text(port(), s.ann, s.chat_id, "meanwhile");
    EXPECT_EQ(other["content"], "meanwhile");
    EXPECT_EQ(held.wait_for(std::chrono::seconds(0)), std::future_status::timeout)
        << "the translation was still waiting for the provider";

    gate->open();
    const auto answered = held.get();
    ASSERT_TRUE(IsJson(answered, 200)) << answered.describe();
    EXPECT_EQ(answered.json()["text"], "[de] Hold on");
}

TEST_F(TranslationTest, TranslationsAreCountedInTheMetrics) {
    const auto s = scene();
    const std::string id = s.message["id"];
    const auto sample = [](const std::string& result) {
        const auto text = http(port(), "GET", "/metrics").body;
        return metric_sample(text, "confab_translation_requests_total{result=\"" + result + "\"}").value_or(0);
    };
    const auto translated_before = sample("translated");
    const auto cached_before = sample("cached");
    ASSERT_EQ(get(port(), s.bob.token, translation_url(id, "to=it")).status, 200);
    ASSERT_EQ(get(port(), s.bob.token, translation_url(id, "to=it")).status, 200);
    EXPECT_EQ(sample("translated"), translated_before + 1);
    EXPECT_EQ(sample("cached"), cached_before + 1);
    EXPECT_TRUE(
        metric_sample(http(port(), "GET", "/metrics").body, "confab_translation_provider_duration_seconds_count")
            .has_value());
}

// A provider that does not answer within translation.timeout_ms.
TEST(TranslationProvider, AProviderThatNeverAnswersIsATimeout) {
    CONFAB_REQUIRE_DATABASE();
    auto gate = std::make_shared<Gate>();
    FakeHttpServer provider([gate](const FakeHttpServer::Request& request) {
        gate->wait();
        return translated(request);
    });
    ServerProcess server(shared_database().url(), std::map<std::string, std::string>{
                                                      {"CONFAB_TRANSLATION_URL", provider.url()},
                                                      {"CONFAB_TRANSLATION_TIMEOUT_MS", "300"},
                                                  });
    const auto ann = register_user(server.port(), "ann");
    const std::string chat = create_group(server.port(), ann)["id"];
    const std::string id = send_text(server.port(), ann, chat, "anyone there?")["id"];
    const auto timed_out = get(server.port(), ann.token, translation_url(id, "to=de"));
    gate->open();
    EXPECT_TRUE(IsRefusedFor(timed_out, "provider_timeout")) << timed_out.describe();
    EXPECT_EQ(provider.request_count(), 1u);
    EXPECT_EQ(json::parse(provider.requests().front().body).count("api_key"), 0u) << "no key configured, none sent";
}

// A provider that cannot be reached: nothing listens at its port any more.
TEST(TranslationProvider, AProviderThatCannotBeReachedIsAnError) {
    CONFAB_REQUIRE_DATABASE();
    const auto gone = std::make_unique<FakeHttpServer>(translated)->url();
    ServerProcess server(shared_database().url(), std::map<std::string, std::string>{{"CONFAB_TRANSLATION_URL", gone}});
    const auto ann = register_user(server.port(), "ann");
    const std::string chat = create_group(server.port(), ann)["id"];
    const std::string id = send_text(server.port(), ann, chat, "hello?")["id"];
    EXPECT_TRUE(IsRefusedFor(get(server.port(), ann.token, translation_url(id, "to=de")), "provider_error"));
}

// The suite-wide server has no provider.
using TranslationNotConfiguredTest = ConfabTest;

TEST_F(TranslationNotConfiguredTest, EveryRequestIsRefusedAsNotConfigured) {
    const auto ann = register_user(port(), "ann");
    const std::string chat = create_group(port(), ann)["id"];
    const std::string id = send_text(port(), ann, chat, "hello")["id"];
    EXPECT_TRUE(IsRefusedFor(get(port(), ann.token, translation_url(id, "to=de")), "translation_not_configured"));
    EXPECT_TRUE(
        IsRefusedFor(get(port(), ann.token, translation_url(random_uuid(), "to=de")), "translation_not_configured"))
        << "before the message is looked up";
    EXPECT_TRUE(IsBadLanguage(get(port(), ann.token, translation_url(id, "to=x")), "to")) << "the language first";
}

}  // namespace
}  // namespace confab::test
