#pragma once

#include "confab/model/template.hpp"

#include "confab/store/tx.hpp"

#include <optional>
#include <string>
#include <vector>

// Message templates: a user's own (owner) or a chat's. `placeholders` is left empty: the
// domain derives it from the content.
namespace confab::store::templates {

void prepare(Tx& tx);

// Exactly one of owner_id and chat_id. Duplicate when the scope has a template of this name.
model::Template insert(Tx& tx, const std::optional<std::string>& owner_id, const std::optional<std::string>& chat_id,
                       const std::string& created_by, const std::string& name, const std::string& content);

struct Stored {
    model::Template value;
    std::optional<std::string> owner_id;  // set for a user's own template
};
std::optional<Stored> find(Tx& tx, const std::string& id);

// Ordered by name.
std::vector<model::Template> of_owner(Tx& tx, const std::string& owner_id);
std::vector<model::Template> of_chat(Tx& tx, const std::string& chat_id);
int count_of_owner(Tx& tx, const std::string& owner_id);
int count_of_chat(Tx& tx, const std::string& chat_id);

// Duplicate when the new name is taken in the template's scope.
model::Template update(Tx& tx, const std::string& id, const std::optional<std::string>& name,
                       const std::optional<std::string>& content);
void remove(Tx& tx, const std::string& id);

}  // namespace confab::store::templates
