#include "confab/domain/template_service.hpp"

#include "confab/domain/rules.hpp"
#include "confab/domain/templates.hpp"
#include "confab/domain/validation.hpp"
#include "confab/store/templates.hpp"

namespace confab::domain {
namespace {

// Who may change a stored template: its owner, or an admin of its chat (as of the chat's
// row lock, so an admin demoted meanwhile is refused). Anyone else learns nothing.
void may_change(store::Tx& tx, const store::templates::Stored& stored, const std::string& actor) {
    if (stored.owner_id) {
        if (*stored.owner_id != actor) throw not_found("template");
        return;
    }
    rules::may_manage_chat_templates(lock_standing(tx, *stored.value.chat_id, actor, "template"));
}

store::templates::Stored stored_template(store::Tx& tx, const std::string& template_id) {
    auto stored = store::templates::find(tx, template_id);
    if (!stored) throw not_found("template");
    return std::move(*stored);
}

Error name_taken() { return conflict("a template with this name exists"); }

// The template as the service returns it: its placeholders derived from its content.
Template with_placeholders(Template value) {
    value.placeholders = templates::placeholders(value.content);
    return value;
}

std::vector<Template> with_placeholders(std::vector<Template> values) {
    for (auto& value : values) value = with_placeholders(std::move(value));
    return values;
}

}  // namespace

void TemplateService::validate(const std::optional<std::string>& name,
                               const std::optional<std::string>& content) const {
    if (name && (name->empty() || !is_plain_text(*name) || code_points(*name) > max_name_chars))
        throw bad_request("name must be 1-64 characters of plain text", "name");
    if (content && (!is_valid_utf8(*content) || code_points(*content) == 0))
        throw bad_request("content must not be empty", "content");
    if (content && code_points(*content) > content_chars_)
        throw Error(ErrorCode::payload_too_large,
                    "content is longer than " + std::to_string(content_chars_) + " characters", "content");
}

boost::asio::awaitable<Template> TemplateService::create(std::string actor, std::optional<std::string> chat_id,
                                                         std::string name, std::string content) {
    validate(name, content);
    if (chat_id) rules::may_manage_chat_templates(co_await writes_.standing(*chat_id, actor));
    auto created = co_await writes_.pool().run([actor, chat_id, name, content](store::Tx& tx) {
        if (chat_id) rules::may_manage_chat_templates(lock_standing(tx, *chat_id, actor));
        const int count =
            chat_id ? store::templates::count_of_chat(tx, *chat_id) : store::templates::count_of_owner(tx, actor);
        if (count >= max_per_scope) throw conflict("at most 100 templates per user and per group");
        const auto owner = chat_id ? std::nullopt : std::optional<std::string>(actor);
        try {
            return store::templates::insert(tx, owner, chat_id, actor, name, content);
        } catch (const store::Duplicate&) {
            throw name_taken();
        }
    });
    co_return with_placeholders(std::move(created));
}

boost::asio::awaitable<std::vector<Template>> TemplateService::list_own(std::string actor) {
    auto found = co_await writes_.pool().run([actor](store::Tx& tx) { return store::templates::of_owner(tx, actor); });
    co_return with_placeholders(std::move(found));
}

boost::asio::awaitable<std::vector<Template>> TemplateService::list_of_chat(std::string actor, std::string chat_id) {
    co_await writes_.standing(chat_id, actor);
    auto found =
        co_await writes_.pool().run([chat_id](store::Tx& tx) { return store::templates::of_chat(tx, chat_id); });
    co_return with_placeholders(std::move(found));
}

boost::asio::awaitable<Template> TemplateService::update(std::string actor, std::string template_id,
                                                         TemplateChange change) {
    require_uuid(template_id, "template_id");
    if (!change.name && !change.content) throw bad_request("nothing to update");
    validate(change.name, change.content);
    auto updated = co_await writes_.pool().run([actor, template_id, change](store::Tx& tx) {
        may_change(tx, stored_template(tx, template_id), actor);
        try {
            return store::templates::update(tx, template_id, change.name, change.content);
        } catch (const store::Duplicate&) {
            throw name_taken();
        }
    });
    co_return with_placeholders(std::move(updated));
}

boost::asio::awaitable<void> TemplateService::remove(std::string actor, std::string template_id) {
    require_uuid(template_id, "template_id");
    co_await writes_.pool().run([actor, template_id](store::Tx& tx) {
        may_change(tx, stored_template(tx, template_id), actor);
        store::templates::remove(tx, template_id);
    });
}

}  // namespace confab::domain
