#pragma once

#include "confab/model/role.hpp"
#include "confab/store/tx.hpp"

#include <optional>
#include <string>
#include <vector>

namespace pqxx {
class field;
}

// A group's custom roles (docs/api.md, Custom roles) and the member rows holding them.
namespace confab::store::roles {

// One column of a statement over chat_members aliased `member`: the member's custom role, or
// NULL; read with custom_role_from.
#define CONFAB_CUSTOM_ROLE(member)                                                                        \
    "(SELECT r.id::text || '|' || r.rank || '|' || array_to_string(r.permissions, ',') || '|' || r.name " \
    "FROM chat_roles r WHERE r.id = " member ".custom_role_id)"

std::optional<model::CustomRole> custom_role_from(const pqxx::field& field);

void prepare(Tx& tx);

std::vector<model::CustomRole> of_chat(Tx& tx, const std::string& chat_id);
std::optional<model::CustomRole> find(Tx& tx, const std::string& chat_id, const std::string& role_id);
// The new role, or nothing when the chat already has a role of that name (in any case).
std::optional<model::CustomRole> insert(Tx& tx, const model::CustomRole& role);
// Writes the role's name, rank and permissions; false when the name is another role's.
bool update(Tx& tx, const model::CustomRole& role);
void remove(Tx& tx, const std::string& role_id);
// The members holding the role.
std::vector<std::string> holders(Tx& tx, const std::string& role_id);

// Gives the member a custom role (and its rank as their role), or takes theirs (none).
void assign(Tx& tx, const std::string& chat_id, const std::string& user_id,
            const std::optional<model::CustomRole>& role);
// Sets the role's holders' role to its (new) rank.
void rank_holders(Tx& tx, const model::CustomRole& role);

}  // namespace confab::store::roles
