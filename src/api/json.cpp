#include "confab/api/json.hpp"

#include "confab/domain/rules.hpp"
#include "confab/model/error.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace confab::api {

using model::bad_request;

Json parse_object(std::string_view text, std::string_view what) {
    const auto invalid = [what] { return bad_request(std::string(what) + " is not valid JSON"); };
    // A raw NUL is never valid JSON, and some parsers stop at it: refuse it outright.
    if (text.find('\0') != std::string_view::npos) throw invalid();
    // The keys each open object was given: an object that ends up with fewer had one twice.
    std::vector<std::size_t> keys_given;
    bool key_twice = false;
    const auto count_keys = [&](int, Json::parse_event_t event, Json& parsed) {
        if (event == Json::parse_event_t::object_start) keys_given.push_back(0);
        if (event == Json::parse_event_t::key) ++keys_given.back();
        if (event == Json::parse_event_t::object_end) {
            key_twice = key_twice || parsed.size() != keys_given.back();
            keys_given.pop_back();
        }
        return true;
    };
    Json parsed = Json::parse(text, count_keys, false);
    if (parsed.is_discarded()) throw invalid();
    if (key_twice) throw bad_request(std::string(what) + " gives a key twice in one object");
    if (!parsed.is_object()) throw bad_request(std::string(what) + " must be a JSON object");
    return parsed;
}

namespace {

// PostgreSQL text cannot hold U+0000; refusing it beats storing a cut-off string (or failing
// in the database).
void refuse_nul(std::string_view text, const char* field) {
    if (text.find('\0') != std::string_view::npos)
        throw bad_request(std::string(field) + " must not contain U+0000", field);
}

}  // namespace

std::optional<std::string> optional_string(const Json& object, const char* field) {
    const auto found = object.find(field);
    if (found == object.end()) return std::nullopt;
    if (!found->is_string()) throw bad_request(std::string(field) + " must be a string", field);
    refuse_nul(found->get_ref<const std::string&>(), field);
    return found->get<std::string>();
}

std::string required_string(const Json& object, const char* field) {
    auto value = optional_string(object, field);
    if (!value) throw bad_request(std::string(field) + " is required", field);
    return std::move(*value);
}

std::optional<std::string> nullable_string(const Json& object, const char* field) {
    const auto found = object.find(field);
    if (found != object.end() && found->is_null()) return std::nullopt;
    return optional_string(object, field);
}

bool beyond_exact_integers(const Json& number) {
    constexpr std::uint64_t largest = (std::uint64_t{1} << 53) - 1;
    if (number.is_number_unsigned()) return number.get<std::uint64_t>() > largest;
    if (number.is_number_integer()) {
        const auto value = number.get<std::int64_t>();
        return value > static_cast<std::int64_t>(largest) || value < -static_cast<std::int64_t>(largest);
    }
    // An integer past 64 bits arrives as a float; so does 1e20. Past 2^53 every double is whole.
    return number.is_number_float() && std::abs(number.get<double>()) > static_cast<double>(largest);
}

std::optional<long long> optional_integer(const Json& object, const char* field) {
    const auto found = object.find(field);
    if (found == object.end()) return std::nullopt;
    if (!found->is_number_integer()) throw bad_request(std::string(field) + " must be an integer", field);
    if (beyond_exact_integers(*found)) throw bad_request(std::string(field) + " is out of range", field);
    return found->get<long long>();
}

std::optional<bool> optional_bool(const Json& object, const char* field) {
    const auto found = object.find(field);
    if (found == object.end()) return std::nullopt;
    if (!found->is_boolean()) throw bad_request(std::string(field) + " must be a boolean", field);
    return found->get<bool>();
}

std::optional<std::vector<std::string>> optional_string_array(const Json& object, const char* field) {
    const auto found = object.find(field);
    if (found == object.end()) return std::nullopt;
    if (!found->is_array()) throw bad_request(std::string(field) + " must be an array of strings", field);
    std::vector<std::string> values;
    values.reserve(found->size());
    for (const auto& item : *found) {
        if (!item.is_string()) throw bad_request(std::string(field) + " must be an array of strings", field);
        values.push_back(item.get<std::string>());
    }
    return values;
}

std::optional<std::map<std::string, std::string>> optional_string_map(const Json& object, const char* field) {
    const auto found = object.find(field);
    if (found == object.end()) return std::nullopt;
    const auto refused = bad_request(std::string(field) + " must be an object of strings", field);
    if (!found->is_object()) throw refused;
    std::map<std::string, std::string> values;
    for (const auto& [key, item] : found->items()) {
        if (!item.is_string()) throw refused;
        refuse_nul(key, field);
        refuse_nul(item.get_ref<const std::string&>(), field);
        values.emplace(key, item.get<std::string>());
    }
    return values;
}

namespace {

struct Shape {
    std::size_t depth = 0;        // how deeply arrays and objects nest (a scalar is 0)
    bool inexact_number = false;  // a number no JSON reader holds exactly
};

// Found without recursion: a request body can nest deeper than a thread's stack could follow.
Shape shape_of(const Json& value) {
    Shape shape;
    std::vector<std::pair<const Json*, std::size_t>> pending{{&value, 0}};
    while (!pending.empty()) {
        const auto [node, depth] = pending.back();
        pending.pop_back();
        if (node->is_number()) shape.inexact_number = shape.inexact_number || beyond_exact_integers(*node);
        if (!node->is_structured()) continue;
        shape.depth = std::max(shape.depth, depth + 1);
        for (const auto& child : *node) pending.emplace_back(&child, depth + 1);
    }
    return shape;
}

constexpr std::size_t max_metadata_depth = 64;

}  // namespace

std::optional<model::OpaqueJson> optional_object(const Json& object, const char* field, std::size_t max_bytes) {
    const auto found = object.find(field);
    if (found == object.end()) return std::nullopt;
    if (!found->is_object()) throw bad_request(std::string(field) + " must be an object", field);
    const auto too_large = [field] {
        return model::Error(model::ErrorCode::payload_too_large, std::string(field) + " is too large", field);
    };
    // Checked first because dump() recurses once per level. Each level takes at least two
    // bytes ("[]"), so deeper than half the limit cannot fit at all; below that a client's
    // JSON parser may still refuse (Python's stops near 1,000 levels) what would fit.
    const auto shape = shape_of(*found);
    if (shape.depth > max_bytes / 2) throw too_large();
    if (shape.depth > max_metadata_depth)
        throw bad_request(std::string(field) + " must nest at most " + std::to_string(max_metadata_depth) + " levels",
                          field);
    // Stored as given, a 2^64 would come back as a float and a 2^60 would not survive a browser.
    if (shape.inexact_number)
        throw bad_request(std::string(field) +
                              " may hold numbers of magnitude up to 2^53-1 only (send larger as strings)",
                          field);
    auto text = dump(*found);
    if (text.find("\\u0000") != std::string::npos)  // jsonb cannot store U+0000
        throw bad_request(std::string(field) + " must not contain U+0000", field);
    if (text.size() > max_bytes) throw too_large();
    return model::OpaqueJson{std::move(text)};
}

void reject_unknown_fields(const Json& object, std::initializer_list<std::string_view> known) {
    for (const auto& [key, value] : object.items()) {
        bool is_known = false;
        for (auto name : known) is_known = is_known || key == name;
        if (!is_known) throw bad_request("unknown field " + key, key);
    }
}

namespace {

// `count` decimal digits at text[at...], or nullopt.
std::optional<int> digits(std::string_view text, std::size_t at, std::size_t count) {
    if (at + count > text.size()) return std::nullopt;
    int value = 0;
    for (std::size_t i = at; i < at + count; ++i) {
        if (text[i] < '0' || text[i] > '9') return std::nullopt;
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

}  // namespace

std::optional<model::Timestamp> parse_timestamp(std::string_view text) {
    using namespace std::chrono;
    const auto year = digits(text, 0, 4), month = digits(text, 5, 2), day = digits(text, 8, 2);
    const auto hour = digits(text, 11, 2), minute = digits(text, 14, 2), second = digits(text, 17, 2);
    if (!year || !month || !day || !hour || !minute || !second || text[4] != '-' || text[7] != '-' ||
        (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':')
        return std::nullopt;
    const year_month_day date{std::chrono::year(*year), std::chrono::month(static_cast<unsigned>(*month)),
                              std::chrono::day(static_cast<unsigned>(*day))};
    if (!date.ok() || *hour > 23 || *minute > 59 || *second > 60) return std::nullopt;
    std::size_t at = 19;
    int millis = 0;
    if (at < text.size() && text[at] == '.') {
        const auto first = ++at;
        for (; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at)
            if (at - first < 3) millis = millis * 10 + (text[at] - '0');
        if (at == first) return std::nullopt;
        for (auto kept = std::min<std::size_t>(at - first, 3); kept < 3; ++kept) millis *= 10;
    }
    minutes offset{0};
    const auto zone = text.substr(std::min(at, text.size()));
    if (zone == "Z" || zone == "z") {
    } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
        const auto hours = digits(zone, 1, 2), mins = digits(zone, 4, 2);
        if (!hours || !mins || *hours > 23 || *mins > 59) return std::nullopt;
        offset = minutes(*hours * 60 + *mins) * (zone[0] == '-' ? -1 : 1);
    } else {
        return std::nullopt;
    }
    // A leap second (:60) counts as the second after :59.
    const auto instant = time_point_cast<milliseconds>(sys_days(date)) + hours(*hour) + minutes(*minute) +
                         seconds(*second) + milliseconds(millis) - offset;
    // In UTC it must still have four digits of year, as every timestamp the server writes does.
    if (instant < sys_days(std::chrono::year(1) / 1 / 1) || instant >= sys_days(std::chrono::year(10000) / 1 / 1))
        return std::nullopt;
    return instant;
}

model::Timestamp required_timestamp(const Json& object, const char* field) {
    const auto text = required_string(object, field);
    const auto parsed = parse_timestamp(text);
    if (!parsed) throw bad_request(std::string(field) + " must be an RFC 3339 date-time", field);
    return *parsed;
}

std::optional<model::Timestamp> optional_timestamp(const Json& object, const char* field) {
    if (!object.contains(field) || object.at(field).is_null()) return std::nullopt;
    return required_timestamp(object, field);
}

namespace {

void append_digits(std::string& out, long long value, int width) {
    char digits[20];
    int length = 0;
    for (; value > 0 || length < width; value /= 10) digits[length++] = static_cast<char>('0' + value % 10);
    while (length > 0) out += digits[--length];
}

// RFC 3339 in UTC with milliseconds, written by hand: gmtime_r, strftime and snprintf took
// 3 % of the server's CPU in reading history pages (docs/performance.md, Eighth round).
void append_timestamp(std::string& out, model::Timestamp at) {
    using namespace std::chrono;
    const auto day = floor<days>(at);
    const year_month_day date{day};
    const hh_mm_ss time{at - day};
    append_digits(out, static_cast<int>(date.year()), 4);
    out += '-';
    append_digits(out, static_cast<unsigned>(date.month()), 2);
    out += '-';
    append_digits(out, static_cast<unsigned>(date.day()), 2);
    out += 'T';
    append_digits(out, time.hours().count(), 2);
    out += ':';
    append_digits(out, time.minutes().count(), 2);
    out += ':';
    append_digits(out, time.seconds().count(), 2);
    out += '.';
    append_digits(out, time.subseconds().count(), 3);
    out += 'Z';
}

}  // namespace

std::string format_timestamp(model::Timestamp at) {
    std::string text;
    text.reserve(24);
    append_timestamp(text, at);
    return text;
}

Json to_json(const model::User& user) {
    Json json{{"id", user.id},
              {"username", user.username},
              {"display_name", user.display_name},
              {"avatar_url", user.avatar_url ? Json(*user.avatar_url) : Json(nullptr)},
              {"bio", user.bio ? Json(*user.bio) : Json(nullptr)},
              {"is_bot", user.is_bot},
              {"created_at", format_timestamp(user.created_at)}};
    // Only a deleted account's tombstone says so: every other user model stays as it was.
    if (user.deleted) json["deleted"] = true;
    return json;
}

Json to_json(const model::User& user, const model::Presence& presence) {
    auto json = to_json(user);
    json["online"] = presence.online;
    json["last_seen_at"] = presence.last_seen_at ? Json(format_timestamp(*presence.last_seen_at)) : Json(nullptr);
    return json;
}

namespace {

Json optional_text(const std::optional<std::string>& text) { return text ? Json(*text) : Json(nullptr); }

}  // namespace

Json parse_stored(const model::OpaqueJson& json) {
    auto parsed = Json::parse(json.text, nullptr, false);
    return parsed.is_discarded() ? Json::object() : parsed;
}

Json to_json(const model::Media& media, const std::optional<std::string>& message_id) {
    Json json{{"id", media.id},
              {"kind", model::to_string(media.kind)},
              {"mime_type", media.mime_type},
              {"size_bytes", media.size_bytes},
              {"sha256", media.sha256},
              {"file_name", optional_text(media.file_name)}};
    if (message_id) {
        json["url"] = "/api/v1/messages/" + *message_id + "/media";
        if (media.kind == model::MediaKind::image || media.poster)
            json["thumbnail_url"] = "/api/v1/messages/" + *message_id + "/media?variant=thumb";
    }
    if (media.width) json["width"] = *media.width;
    if (media.height) json["height"] = *media.height;
    if (media.duration_ms) json["duration_ms"] = *media.duration_ms;
    if (!media.waveform.empty()) json["waveform"] = media.waveform;
    if (media.kind == model::MediaKind::image) json["animated"] = media.animated;
    if (const auto& live = media.live_video) {
        json["live_video"] = {{"mime_type", live->mime_type}, {"size_bytes", live->size_bytes},
                              {"sha256", live->sha256},       {"duration_ms", live->duration_ms},
                              {"width", live->width},         {"height", live->height}};
        if (message_id) json["live_video"]["url"] = "/api/v1/messages/" + *message_id + "/media?part=video";
    }
    return json;
}

Json to_json(const model::Poll& poll) {
    Json options = Json::array();
    for (const auto& option : poll.options)
        options.push_back(
            {{"text", option.text}, {"voter_count", option.voter_count}, {"voter_ids", option.voter_ids}});
    const auto optional_time = [](const std::optional<model::Timestamp>& at) {
        return at ? Json(format_timestamp(*at)) : Json(nullptr);
    };
    Json json{{"question", poll.question},
              {"options", std::move(options)},
              {"multiple_choice", poll.multiple_choice},
              {"anonymous", poll.anonymous},
              {"closes_at", optional_time(poll.closes_at)},
              {"closed_at", optional_time(poll.closed_at)},
              {"total_voters", poll.total_voters}};
    if (poll.my_votes) json["my_votes"] = *poll.my_votes;
    return json;
}

Json to_json(const model::TextEntity& e) {
    Json json{{"type", model::to_string(e.type)}, {"offset", e.offset}, {"length", e.length}};
    if (e.url) json["url"] = *e.url;
    if (e.language) json["language"] = *e.language;
    if (e.user_id) json["user_id"] = *e.user_id;
    return json;
}

namespace {

Json entities_json(const std::vector<model::TextEntity>& entities) {
    Json array = Json::array();
    for (const auto& entity : entities) array.push_back(to_json(entity));
    return array;
}

}  // namespace

namespace {

Json reactions_json(const model::Message& m) {
    Json reactions = Json::array();
    for (const auto& reaction : m.reactions)
        reactions.push_back({{"emoji", reaction.emoji}, {"count", reaction.count}, {"user_ids", reaction.user_ids}});
    return reactions;
}

Json forwarded_from_json(const model::Message& m) {
    const auto& origin = m.forwarded_from;
    if (!origin) return nullptr;
    return {{"message_id", origin->message_id},
            {"chat_id", origin->chat_id},
            {"sender_id", optional_text(origin->sender_id)},
            {"sent_at", format_timestamp(origin->sent_at)}};
}

Json thread_json(const model::Message& m) {
    const auto& summary = m.thread;
    if (!summary) return nullptr;
    return {{"reply_count", summary->reply_count},
            {"last_reply_at", format_timestamp(summary->last_reply_at)},
            {"participant_ids", summary->participant_ids}};
}

// The writing of write_json: JSON text appended to `out` as Json::dump prints it.
class JsonWriter {
public:
    explicit JsonWriter(std::string& out) : out_(out) {}

    // An object's fields, in the order Json prints them (its keys sorted).
    void begin() {
        out_ += '{';
        first_ = true;
    }
    void end() { out_ += '}'; }
    JsonWriter& key(std::string_view name) {
        if (!first_) out_ += ',';
        first_ = false;
        out_ += '"';
        out_ += name;
        out_ += "\":";
        return *this;
    }

    // Text that needs no escaping is copied as it is; any other goes through Json, whose
    // escaping (and replacement of invalid UTF-8) the API's every other body has.
    void text(std::string_view value) {
        const bool plain = std::all_of(value.begin(), value.end(), [](char c) {
            const auto byte = static_cast<unsigned char>(c);
            return byte >= 0x20 && byte < 0x80 && c != '"' && c != '\\';
        });
        if (!plain) return json(Json(std::string(value)));
        out_ += '"';
        out_ += value;
        out_ += '"';
    }
    void text_or_null(const std::optional<std::string>& value) { value ? text(*value) : null(); }
    void timestamp(model::Timestamp at) {
        out_ += '"';
        append_timestamp(out_, at);
        out_ += '"';
    }
    void raw(std::string_view json) { out_ += json; }
    void number(std::int64_t value) { out_ += std::to_string(value); }
    void boolean(bool value) { out_ += value ? "true" : "false"; }
    void null() { out_ += "null"; }
    void json(const Json& value) { out_ += dump(value); }

private:
    std::string& out_;
    bool first_ = true;
};

}  // namespace

void write_json(std::string& out, const model::Message& m) {
    JsonWriter w(out);
    w.begin();
    w.key("chat_id").text(m.chat_id);
    w.key("client_id").text_or_null(m.client_id);
    w.key("content").text(m.content);
    w.key("created_at").timestamp(m.created_at);
    // The usual empty parts are written as Json prints them, without building one.
    if (m.entities.empty()) w.key("entities").raw("[]");
    else w.key("entities").json(entities_json(m.entities));
    if (m.forwarded_from) w.key("forwarded_from").json(forwarded_from_json(m));
    else w.key("forwarded_from").null();
    w.key("id").text(m.id);
    w.key("is_deleted").boolean(m.is_deleted);
    w.key("is_edited").boolean(m.is_edited);
    if (m.media) w.key("media").json(to_json(*m.media, m.id));
    else w.key("media").null();
    // Most messages carry none: "{}" is what parsing and printing it would give.
    if (m.metadata.text == "{}") w.key("metadata").raw("{}");
    else w.key("metadata").json(parse_stored(m.metadata));
    if (m.pinned_at) w.key("pinned_at").timestamp(*m.pinned_at);
    else w.key("pinned_at").null();
    w.key("pinned_by").text_or_null(m.pinned_by);
    if (m.poll) w.key("poll").json(to_json(*m.poll));
    if (m.reactions.empty()) w.key("reactions").raw("[]");
    else w.key("reactions").json(reactions_json(m));
    w.key("reply_to_id").text_or_null(m.reply_to_id);
    w.key("sender_id").text_or_null(m.sender_id);
    w.key("seq").number(m.seq);
    if (m.thread) w.key("thread").json(thread_json(m));
    else w.key("thread").null();
    w.key("thread_root_id").text_or_null(m.thread_root_id);
    w.key("type").text(model::to_string(m.type));
    w.key("updated_at").timestamp(m.updated_at);
    w.key("version").number(m.version);
    w.end();
}

Json to_json(const model::Message& m) {
    Json json{{"id", m.id},
              {"chat_id", m.chat_id},
              {"sender_id", optional_text(m.sender_id)},
              {"seq", m.seq},
              {"version", m.version},
              {"type", model::to_string(m.type)},
              {"content", m.content},
              {"media", m.media ? to_json(*m.media, m.id) : Json(nullptr)},
              {"reply_to_id", optional_text(m.reply_to_id)},
              {"reactions", reactions_json(m)},
              {"is_edited", m.is_edited},
              {"is_deleted", m.is_deleted},
              {"metadata", parse_stored(m.metadata)},
              {"client_id", optional_text(m.client_id)},
              {"pinned_at", m.pinned_at ? Json(format_timestamp(*m.pinned_at)) : Json(nullptr)},
              {"pinned_by", optional_text(m.pinned_by)},
              {"forwarded_from", forwarded_from_json(m)},
              {"entities", entities_json(m.entities)},
              {"thread_root_id", optional_text(m.thread_root_id)},
              {"thread", thread_json(m)},
              {"created_at", format_timestamp(m.created_at)},
              {"updated_at", format_timestamp(m.updated_at)}};
    if (m.poll) json["poll"] = to_json(*m.poll);
    return json;
}

namespace {

Json permission_names(const std::vector<model::Permission>& permissions) {
    Json names = Json::array();
    for (const auto permission : permissions) names.push_back(model::to_string(permission));
    return names;
}

// ChatMemberModel.custom_role and ChatModel.me.custom_role: the role's name for display.
Json custom_role_brief(const std::optional<model::CustomRole>& role) {
    if (!role) return nullptr;
    return Json{{"id", role->id}, {"name", role->name}};
}

}  // namespace

Json to_json(const model::ChatView& view) {
    const auto& c = view.chat;
    return Json{{"id", c.id},
                {"type", model::to_string(c.type)},
                {"title", optional_text(c.title)},
                {"avatar_url", optional_text(c.avatar_url)},
                {"settings",
                 {{"only_admins_can_post", c.settings.only_admins_can_post},
                  {"only_admins_can_edit_info", c.settings.only_admins_can_edit_info},
                  {"only_admins_can_add_members", c.settings.only_admins_can_add_members},
                  {"only_admins_can_pin", c.settings.only_admins_can_pin},
                  {"only_admins_can_mention_all", c.settings.only_admins_can_mention_all},
                  {"slow_mode_seconds", c.settings.slow_mode_seconds}}},
                {"metadata", parse_stored(c.metadata)},
                {"member_count", c.member_count},
                {"last_message", view.last_message ? to_json(*view.last_message) : Json(nullptr)},
                {"last_seq", c.last_seq},
                {"version", c.version},
                {"me",
                 {{"role", model::to_string(view.me.role)},
                  {"last_read_seq", view.me.last_read_seq},
                  {"unread_count", std::max<std::int64_t>(0, c.last_seq - view.me.last_read_seq)},
                  {"unread_mention_count", view.me.unread_mention_count},
                  {"is_muted", view.me.is_muted},
                  {"custom_role", custom_role_brief(view.me.custom_role)},
                  {"permissions", permission_names(domain::rules::permissions(
                                      domain::rules::standing_of(c.type, c.settings, c.large, view.me)))}}},
                {"created_at", format_timestamp(c.created_at)},
                {"updated_at", format_timestamp(c.updated_at)},
                {"handle", optional_text(c.handle)},
                {"is_public", c.is_public},
                {"subscriber_count", c.type == model::ChatType::channel ? Json(c.subscriber_count) : Json(nullptr)},
                {"large", c.large}};
}

Json to_json(const model::Channel& channel) {
    return Json{{"id", channel.id},
                {"type", model::to_string(model::ChatType::channel)},
                {"handle", optional_text(channel.handle)},
                {"title", optional_text(channel.title)},
                {"avatar_url", optional_text(channel.avatar_url)},
                {"is_public", channel.is_public},
                {"subscriber_count", channel.subscriber_count},
                {"joined", channel.joined},
                {"created_at", format_timestamp(channel.created_at)}};
}

Json to_json(const model::Invitation& invitation) {
    return Json{{"id", invitation.id},
                {"chat_id", invitation.chat_id},
                {"title", invitation.title ? Json(*invitation.title) : Json(nullptr)},
                {"avatar_url", invitation.avatar_url ? Json(*invitation.avatar_url) : Json(nullptr)},
                {"member_count", invitation.member_count},
                {"inviter", invitation.inviter ? to_json(*invitation.inviter) : Json(nullptr)},
                {"created_at", format_timestamp(invitation.created_at)}};
}

Json to_json(const model::Template& value) {
    return Json{{"id", value.id},
                {"chat_id", value.chat_id ? Json(*value.chat_id) : Json(nullptr)},
                {"name", value.name},
                {"content", value.content},
                {"placeholders", value.placeholders},
                {"created_at", format_timestamp(value.created_at)},
                {"updated_at", format_timestamp(value.updated_at)}};
}

Json to_json(const model::ScheduledMessage& s) {
    const auto optional = [](const std::optional<std::string>& text) { return text ? Json(*text) : Json(nullptr); };
    return Json{{"id", s.id},
                {"chat_id", s.chat_id},
                {"send_at", format_timestamp(s.send_at)},
                {"type", model::to_string(s.type)},
                {"content", s.content},
                {"media_id", optional(s.media_id)},
                {"reply_to_id", optional(s.reply_to_id)},
                {"metadata", parse_stored(s.metadata)},
                {"client_id", optional(s.client_id)},
                {"entities", entities_json(s.entities)},
                {"status", model::to_string(s.status)},
                {"message_id", optional(s.message_id)},
                {"cancel_reason",
                 s.cancelled ? Json{{"code", s.cancelled->code}, {"message", s.cancelled->reason}} : Json(nullptr)},
                {"created_at", format_timestamp(s.created_at)},
                {"updated_at", format_timestamp(s.updated_at)}};
}

namespace {

// ReportedMessageModel, or null for a report made before it was kept.
Json reported_json(const std::optional<model::ReportedMessage>& message) {
    if (!message) return nullptr;
    return Json{{"type", message->type},
                {"content", message->content},
                {"sender_id", message->sender_id ? Json(*message->sender_id) : Json(nullptr)},
                {"created_at", format_timestamp(message->created_at)}};
}

}  // namespace

Json to_json(const model::Report& report) {
    return Json{{"id", report.id},
                {"chat_id", report.chat_id},
                {"message_id", report.message_id},
                {"reporter_id", report.reporter_id},
                {"reason", model::to_string(report.reason)},
                {"comment", report.comment ? Json(*report.comment) : Json(nullptr)},
                {"status", report.resolved_at ? "resolved" : "open"},
                {"action", report.action ? Json(model::to_string(*report.action)) : Json(nullptr)},
                {"resolved_by", report.resolved_by ? Json(*report.resolved_by) : Json(nullptr)},
                {"resolved_at", report.resolved_at ? Json(format_timestamp(*report.resolved_at)) : Json(nullptr)},
                {"created_at", format_timestamp(report.created_at)},
                {"reported_message", reported_json(report.reported_message)}};
}

Json to_json(const model::Member& member) {
    return Json{{"chat_id", member.chat_id},
                {"user", member.presence ? to_json(member.user, *member.presence) : to_json(member.user)},
                {"role", model::to_string(member.role)},
                {"last_read_seq", member.last_read_seq ? Json(*member.last_read_seq) : Json(nullptr)},
                {"is_muted", member.is_muted},
                {"muted_until", member.muted_until ? Json(format_timestamp(*member.muted_until)) : Json(nullptr)},
                {"custom_role", custom_role_brief(member.custom_role)},
                {"permissions", permission_names(domain::rules::granted(member.role, member.custom_role))},
                {"joined_at", format_timestamp(member.joined_at)}};
}

Json to_json(const model::CustomRole& role) {
    return Json{{"id", role.id},
                {"chat_id", role.chat_id},
                {"name", role.name},
                {"rank", model::to_string(role.rank)},
                {"permissions", permission_names(role.permissions)},
                {"created_at", format_timestamp(role.created_at)}};
}

namespace {

struct EventJson {
    Json operator()(const domain::MessageCreated& e) const {
        return frame("message.new", {{"message", to_json(e.message)}});
    }
    Json operator()(const domain::MessageUpdated& e) const {
        return frame("message.updated", {{"message", to_json(e.message)}});
    }
    Json operator()(const domain::MessageDeleted& e) const {
        return frame("message.deleted", {{"message_id", e.message_id}, {"chat_id", e.chat_id}, {"version", e.version}});
    }
    Json operator()(const domain::MessageHidden& e) const {
        return frame("message.hidden", {{"message_id", e.message_id}, {"chat_id", e.chat_id}, {"version", e.version}});
    }
    Json operator()(const domain::TypingUpdated& e) const {
        return frame("typing.update", {{"chat_id", e.chat_id}, {"user_id", e.user_id}, {"is_typing", e.is_typing}});
    }
    Json operator()(const domain::ReadUpdated& e) const {
        return frame("read.updated",
                     {{"chat_id", e.chat_id}, {"user_id", e.user_id}, {"last_read_seq", e.last_read_seq}});
    }
    Json operator()(const domain::ChatCreated& e) const { return frame("chat.created", {{"chat", to_json(e.view)}}); }
    Json operator()(const domain::ChatUpdated& e) const { return frame("chat.updated", {{"chat", to_json(e.view)}}); }
    Json operator()(const domain::ChatDeleted& e) const { return frame("chat.deleted", {{"chat_id", e.chat_id}}); }
    Json operator()(const domain::MemberAdded& e) const {
        return frame("member.added", {{"chat_id", e.member.chat_id}, {"member", to_json(e.member)}});
    }
    Json operator()(const domain::MemberUpdated& e) const {
        return frame("member.updated", {{"chat_id", e.member.chat_id}, {"member", to_json(e.member)}});
    }
    Json operator()(const domain::MemberRemoved& e) const {
        return frame("member.removed", {{"chat_id", e.chat_id}, {"user_id", e.user_id}});
    }
    Json operator()(const domain::PresenceUpdated& e) const {
        return frame("presence.update",
                     {{"user_id", e.user_id},
                      {"online", e.presence.online},
                      {"last_seen_at",
                       e.presence.last_seen_at ? Json(format_timestamp(*e.presence.last_seen_at)) : Json(nullptr)}});
    }
    Json operator()(const domain::UserUpdated& e) const { return frame("user.updated", {{"user", to_json(e.user)}}); }
    Json operator()(const domain::InvitationCreated& e) const {
        return frame("invitation.created", {{"invitation", to_json(e.invitation)}});
    }
    Json operator()(const domain::InvitationDeleted& e) const {
        return frame("invitation.deleted", {{"invitation_id", e.invitation_id}, {"chat_id", e.chat_id}});
    }
    Json operator()(const domain::ScheduledUpdated& e) const {
        return frame("scheduled_message.updated", {{"scheduled_message", to_json(e.scheduled)}});
    }
    Json operator()(const domain::ScheduledDeleted& e) const {
        return frame("scheduled_message.deleted", {{"scheduled_id", e.scheduled_id}, {"chat_id", e.chat_id}});
    }
    Json operator()(const domain::PollUpdated& e) const {
        return frame("poll.updated", {{"chat_id", e.chat_id},
                                      {"message_id", e.message_id},
                                      {"version", e.version},
                                      {"poll", to_json(e.poll)}});
    }
    Json operator()(const domain::MentionCreated& e) const {
        return frame("mention.new", {{"chat_id", e.chat_id},
                                     {"message_id", e.message_id},
                                     {"sender_id", optional_text(e.sender_id)},
                                     {"seq", e.seq}});
    }
    Json operator()(const domain::BlockChanged& e) const {
        return frame(e.blocked ? "user.blocked" : "user.unblocked", {{"user_id", e.user_id}});
    }
    Json operator()(const domain::ReportChanged& e) const {
        return frame(e.report.resolved_at ? "report.resolved" : "report.created", {{"report", to_json(e.report)}});
    }
    Json operator()(const domain::CustomRoleChanged& e) const {
        using enum domain::CustomRoleChanged::Change;
        if (e.change == deleted) return frame("role.deleted", {{"chat_id", e.role.chat_id}, {"role_id", e.role.id}});
        return frame(e.change == created ? "role.created" : "role.updated", {{"role", to_json(e.role)}});
    }
    static Json frame(const char* type, Json data) { return Json{{"type", type}, {"data", std::move(data)}}; }
};

}  // namespace

Json event_frame(const domain::Event& event) { return std::visit(EventJson{}, event); }

std::string event_text(const domain::Event& event) {
    const auto message_frame = [](const char* type, const model::Message& message) {
        std::string text = R"({"data":{"message":)";
        write_json(text, message);
        text += R"(},"type":")";
        text += type;
        text += R"("})";
        return text;
    };
    if (const auto* created = std::get_if<domain::MessageCreated>(&event))
        return message_frame("message.new", created->message);
    if (const auto* updated = std::get_if<domain::MessageUpdated>(&event))
        return message_frame("message.updated", updated->message);
    return dump(event_frame(event));
}

std::string dump(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace confab::api
