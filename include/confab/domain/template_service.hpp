#pragma once

#include "confab/domain/commit.hpp"
#include "confab/model/template.hpp"

#include <boost/asio/awaitable.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace confab::domain {

struct TemplateChange {
    std::optional<std::string> name;
    std::optional<std::string> content;
};

// Saved message templates (docs/api.md, Templates): a user's own, which only they see, and
// a group's, which its admins manage and its members use. Sending from one is a send
// (SendWriter fills it in its transaction, so a template send keeps its place in order).
class TemplateService {
public:
    static constexpr int max_per_scope = 100;

    TemplateService(ChatWrites& writes, std::size_t content_chars) : writes_(writes), content_chars_(content_chars) {}

    // chat_id: a group's template, else the actor's own.
    boost::asio::awaitable<Template> create(std::string actor, std::optional<std::string> chat_id, std::string name,
                                            std::string content);
    boost::asio::awaitable<std::vector<Template>> list_own(std::string actor);
    // Any member may list (and use) a chat's templates.
    boost::asio::awaitable<std::vector<Template>> list_of_chat(std::string actor, std::string chat_id);
    boost::asio::awaitable<Template> update(std::string actor, std::string template_id, TemplateChange change);
    boost::asio::awaitable<void> remove(std::string actor, std::string template_id);

private:
    void validate(const std::optional<std::string>& name, const std::optional<std::string>& content) const;

    ChatWrites& writes_;
    std::size_t content_chars_;
};

}  // namespace confab::domain
