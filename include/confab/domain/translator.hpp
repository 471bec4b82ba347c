#pragma once

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <stdexcept>
#include <string>

namespace confab::domain {

struct TranslationRequest {
    std::string text;
    std::string source;  // a language, or "auto": the provider detects it
    std::string target;
};

struct Translated {
    std::string text;
    std::optional<std::string> detected_source;  // when the provider detected the language
};

// The provider did not translate: it answered an error or something unreadable, could not
// be reached, or did not answer in time. what() is for the log: it never holds the text.
class TranslatorFailure : public std::runtime_error {
public:
    TranslatorFailure(const std::string& what, bool timed_out) : std::runtime_error(what), timed_out_(timed_out) {}
    bool timed_out() const noexcept { return timed_out_; }

private:
    bool timed_out_;
};

// A translation provider, outside the server (the network layer implements it). A call
// runs on the caller's executor and never blocks it; it throws TranslatorFailure.
class Translator {
public:
    Translator() = default;
    Translator(const Translator&) = delete;
    Translator& operator=(const Translator&) = delete;
    virtual ~Translator() = default;

    virtual boost::asio::awaitable<Translated> translate(TranslationRequest request) = 0;
};

}  // namespace confab::domain
