// The WebSocket frame parser (api::parse_envelope) and the data parsers behind it: any text
// a client sends is an envelope or a model::Error, and the error frame the server answers
// with is JSON that echoes the request id when it was valid.

#include "expect.hpp"

#include "confab/api/envelope.hpp"
#include "confab/api/message_input.hpp"
#include "confab/api/ws_events.hpp"
#include "confab/model/error.hpp"
#include "confab/domain/validation.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

using confab::api::Json;
using confab::model::ErrorCode;

constexpr std::size_t max_metadata_bytes = 16 * 1024;  // PROTOCOL.md: metadata up to 16 KiB

// A field helper either reads the field or throws an error naming that field.
template <class Read>
void read_field(const Json& object, const char* field, Read read) {
    try {
        read(object, field);
    } catch (const confab::model::Error& error) {
        FUZZ_EXPECT(error.field() == field);
    }
}

void read_every_field(const Json& data) {
    namespace api = confab::api;
    for (const auto& [key, value] : data.items()) {
        const char* field = key.c_str();  // the helpers take C strings; a NUL in a key ends the name
        read_field(data, field, [](const Json& o, const char* f) { api::optional_string(o, f); });
        read_field(data, field, [](const Json& o, const char* f) { api::nullable_string(o, f); });
        read_field(data, field, [](const Json& o, const char* f) { api::optional_integer(o, f); });
        read_field(data, field, [](const Json& o, const char* f) { api::optional_bool(o, f); });
        read_field(data, field, [](const Json& o, const char* f) { api::optional_string_array(o, f); });
        read_field(data, field, [](const Json& o, const char* f) { api::optional_object(o, f, max_metadata_bytes); });
    }
}

// message.send's data, which is also the body of POST /chats/{id}/messages.
void parse_message(const Json& data) {
    namespace api = confab::api;
    const auto command = api::parse_send(data, api::required_string(data, "chat_id"), "fuzzer");
    FUZZ_EXPECT(confab::domain::is_valid_utf8(command.content));
    FUZZ_EXPECT(command.metadata.text.size() <= max_metadata_bytes);
    FUZZ_EXPECT(api::parse_stored(command.metadata).is_object());
    if (command.type == confab::model::MessageType::location) {
        FUZZ_EXPECT(command.location.has_value());
        FUZZ_EXPECT(command.location->latitude >= -90 && command.location->latitude <= 90);
        FUZZ_EXPECT(command.location->longitude >= -180 && command.location->longitude <= 180);
    }
}

void expect_error_frame(const std::optional<std::string>& id) {
    const auto frame = Json::parse(confab::api::error_frame(id, std::current_exception(), "fuzzed event"));
    FUZZ_EXPECT(frame["type"] == "error");
    FUZZ_EXPECT(id ? frame["id"] == *id : !frame.contains("id"));
    const auto code = frame["error"]["code"];
    FUZZ_EXPECT(code == "bad_request" || code == "payload_too_large");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    const std::string_view frame(reinterpret_cast<const char*>(bytes), size);
    std::optional<std::string> id;
    try {
        const auto envelope = confab::api::parse_envelope(frame, id);
        FUZZ_EXPECT(envelope.id == id);
        FUZZ_EXPECT(!id || (!id->empty() && id->size() <= 64));
        FUZZ_EXPECT(envelope.data.is_object());
        read_every_field(envelope.data);
        parse_message(envelope.data);
    } catch (const confab::model::Error&) {
        expect_error_frame(id);
    }
    return 0;
}
