#include "confab/store/roles.hpp"
#include "confab/store/sql.hpp"

#include "confab/store/rows.hpp"

namespace confab::store::roles {
namespace {

std::vector<model::Permission> permissions_from(std::string_view names) {
    std::vector<model::Permission> out;
    while (!names.empty()) {
        const auto comma = names.find(',');
        if (const auto permission = model::permission_from(names.substr(0, comma))) out.push_back(*permission);
        names = comma == std::string_view::npos ? std::string_view{} : names.substr(comma + 1);
    }
    return out;
}

std::string permission_array(const std::vector<model::Permission>& permissions) {
    std::vector<std::optional<std::string>> names;
    names.reserve(permissions.size());
    for (const auto permission : permissions) names.emplace_back(std::string(model::to_string(permission)));
    return text_array(names);
}

model::CustomRole role_from(const pqxx::row& row) {
    return {row[0].as<std::string>(),         row[1].as<std::string>(),
            row[2].as<std::string>(),         model::role_from(row[3].c_str()).value_or(model::Role::member),
            permissions_from(row[4].c_str()), timestamp(row[5])};
}

}  // namespace

std::optional<model::CustomRole> custom_role_from(const pqxx::field& field) {
    if (field.is_null()) return std::nullopt;
    const std::string_view text = field.c_str();
    const auto first = text.find('|');
    const auto second = text.find('|', first + 1);
    const auto third = text.find('|', second + 1);
    model::CustomRole role;
    role.id = std::string(text.substr(0, first));
    role.rank = model::role_from(text.substr(first + 1, second - first - 1)).value_or(model::Role::member);
    role.permissions = permissions_from(text.substr(second + 1, third - second - 1));
    role.name = std::string(text.substr(third + 1));
    return role;
}

void prepare(Tx& tx) {
    const std::string columns =
        "id::text, chat_id::text, name, rank, array_to_string(permissions, ','), " CONFAB_TIME("created_at");
    tx.prepare("roles_of_chat",
               "SELECT " + columns + " FROM chat_roles WHERE chat_id = $1::uuid ORDER BY created_at, id");
    tx.prepare("roles_find", "SELECT " + columns + " FROM chat_roles WHERE chat_id = $1::uuid AND id = $2::uuid");
    tx.prepare("roles_insert",
               "INSERT INTO chat_roles (chat_id, name, rank, permissions) VALUES ($1::uuid, $2, $3, $4::text[]) "
               "ON CONFLICT DO NOTHING RETURNING " +
                   columns);
    tx.prepare("roles_update",
               "UPDATE chat_roles SET name = $2, rank = $3, permissions = $4::text[] WHERE id = $1::uuid "
               "AND NOT EXISTS (SELECT 1 FROM chat_roles o WHERE o.chat_id = chat_roles.chat_id "
               "AND o.id <> chat_roles.id AND lower(o.name) = lower($2))");
    tx.prepare("roles_remove", "DELETE FROM chat_roles WHERE id = $1::uuid");
    tx.prepare("roles_holders", "SELECT user_id::text FROM chat_members WHERE custom_role_id = $1::uuid");
    tx.prepare("roles_assign",
               "UPDATE chat_members SET custom_role_id = $3::uuid, role = coalesce($4, role) "
               "WHERE chat_id = $1::uuid AND user_id = $2::uuid");
    tx.prepare("roles_rank_holders", "UPDATE chat_members SET role = $2 WHERE custom_role_id = $1::uuid");
}

std::vector<model::CustomRole> of_chat(Tx& tx, const std::string& chat_id) {
    std::vector<model::CustomRole> out;
    for (const auto& row : tx.exec_prepared("roles_of_chat", chat_id)) out.push_back(role_from(row));
    return out;
}

std::optional<model::CustomRole> find(Tx& tx, const std::string& chat_id, const std::string& role_id) {
    const auto result = tx.exec_prepared("roles_find", chat_id, role_id);
    if (result.empty()) return std::nullopt;
    return role_from(result[0]);
}

std::optional<model::CustomRole> insert(Tx& tx, const model::CustomRole& role) {
    const auto result = tx.exec_prepared("roles_insert", role.chat_id, role.name, std::string(to_string(role.rank)),
                                         permission_array(role.permissions));
    if (result.empty()) return std::nullopt;
    return role_from(result[0]);
}

bool update(Tx& tx, const model::CustomRole& role) {
    return tx.exec_prepared("roles_update", role.id, role.name, std::string(to_string(role.rank)),
                            permission_array(role.permissions))
               .affected_rows() == 1;
}

void remove(Tx& tx, const std::string& role_id) { tx.exec_prepared("roles_remove", role_id); }

std::vector<std::string> holders(Tx& tx, const std::string& role_id) {
    return first_column(tx.exec_prepared("roles_holders", role_id));
}

void assign(Tx& tx, const std::string& chat_id, const std::string& user_id,
            const std::optional<model::CustomRole>& role) {
    std::optional<std::string> role_id;
    std::optional<std::string> rank;
    if (role) {
        role_id = role->id;
        rank = std::string(to_string(role->rank));
    }
    tx.exec_prepared("roles_assign", chat_id, user_id, role_id, rank);
}

void rank_holders(Tx& tx, const model::CustomRole& role) {
    tx.exec_prepared("roles_rank_holders", role.id, std::string(to_string(role.rank)));
}

}  // namespace confab::store::roles
