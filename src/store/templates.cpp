#include "confab/store/templates.hpp"
#include "confab/store/sql.hpp"

#include "confab/store/rows.hpp"

namespace confab::store::templates {
namespace {

const std::string columns = "id::text, chat_id::text, name, content, " CONFAB_TIME("created_at") ", " CONFAB_TIME(
    "updated_at") ", owner_id::text";

model::Template template_from(const pqxx::row& row) {
    return model::Template{
        .id = row[0].as<std::string>(),
        .chat_id = optional_text(row[1]),
        .name = row[2].as<std::string>(),
        .content = row[3].as<std::string>(),
        .placeholders = {},
        .created_at = timestamp(row[4]),
        .updated_at = timestamp(row[5]),
    };
}

std::vector<model::Template> templates_from(const pqxx::result& result) {
    std::vector<model::Template> found;
    found.reserve(result.size());
    for (const auto& row : result) found.push_back(template_from(row));
    return found;
}

}  // namespace

void prepare(Tx& tx) {
    tx.prepare("templates_insert",
               "INSERT INTO message_templates (owner_id, chat_id, created_by, name, content) "
               "VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5) RETURNING " +
                   columns);
    tx.prepare("templates_find", "SELECT " + columns + " FROM message_templates WHERE id = $1::uuid");
    tx.prepare("templates_of_owner",
               "SELECT " + columns + " FROM message_templates WHERE owner_id = $1::uuid ORDER BY name");
    tx.prepare("templates_of_chat",
               "SELECT " + columns + " FROM message_templates WHERE chat_id = $1::uuid ORDER BY name");
    tx.prepare("templates_count_of_owner", "SELECT count(*) FROM message_templates WHERE owner_id = $1::uuid");
    tx.prepare("templates_count_of_chat", "SELECT count(*) FROM message_templates WHERE chat_id = $1::uuid");
    tx.prepare("templates_update",
               "UPDATE message_templates SET name = coalesce($2, name), content = coalesce($3, content), "
               "updated_at = now() WHERE id = $1::uuid RETURNING " +
                   columns);
    tx.prepare("templates_remove", "DELETE FROM message_templates WHERE id = $1::uuid");
}

model::Template insert(Tx& tx, const std::optional<std::string>& owner_id, const std::optional<std::string>& chat_id,
                       const std::string& created_by, const std::string& name, const std::string& content) {
    return template_from(tx.exec_prepared1("templates_insert", owner_id, chat_id, created_by, name, content));
}

std::optional<Stored> find(Tx& tx, const std::string& id) {
    const auto result = tx.exec_prepared("templates_find", id);
    if (result.empty()) return std::nullopt;
    return Stored{template_from(result[0]), optional_text(result[0][6])};
}

std::vector<model::Template> of_owner(Tx& tx, const std::string& owner_id) {
    return templates_from(tx.exec_prepared("templates_of_owner", owner_id));
}

std::vector<model::Template> of_chat(Tx& tx, const std::string& chat_id) {
    return templates_from(tx.exec_prepared("templates_of_chat", chat_id));
}

int count_of_owner(Tx& tx, const std::string& owner_id) {
    return tx.exec_prepared1("templates_count_of_owner", owner_id)[0].as<int>();
}

int count_of_chat(Tx& tx, const std::string& chat_id) {
    return tx.exec_prepared1("templates_count_of_chat", chat_id)[0].as<int>();
}

model::Template update(Tx& tx, const std::string& id, const std::optional<std::string>& name,
                       const std::optional<std::string>& content) {
    return template_from(tx.exec_prepared1("templates_update", id, name, content));
}

void remove(Tx& tx, const std::string& id) { tx.exec_prepared("templates_remove", id); }

}  // namespace confab::store::templates
