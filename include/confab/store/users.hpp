#pragma once

#include "confab/domain/user.hpp"

#include <pqxx/connection>
#include <pqxx/transaction_base>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

// Repositories are free functions over an open transaction; the Pool decides where and
// when that transaction runs. They return the plain model structs of domain/.
namespace confab::store::users {

void prepare(pqxx::connection& connection);

// nullopt when the username is taken.
std::optional<domain::User> insert(pqxx::transaction_base& tx, const std::string& username,
                                   const std::string& display_name, const std::string& password_hash);

struct Credentials {
    domain::User user;
    std::string password_hash;
};
std::optional<Credentials> find_credentials(pqxx::transaction_base& tx, const std::string& username);

std::optional<domain::User> find(pqxx::transaction_base& tx, const std::string& id);

// Users whose username or display name starts with `prefix`, case-insensitively, ordered
// by username, after `after_username` when given.
std::vector<domain::User> search(pqxx::transaction_base& tx, const std::string& prefix,
                                 const std::optional<std::string>& after_username, int limit);

// The ids among `ids` that belong to users.
std::vector<std::string> existing(pqxx::transaction_base& tx, const std::vector<std::string>& ids);

std::optional<domain::Timestamp> last_seen_at(pqxx::transaction_base& tx, const std::string& id);
void touch_last_seen(pqxx::transaction_base& tx, const std::string& id);

}  // namespace confab::store::users

namespace confab::store::tokens {

void prepare(pqxx::connection& connection);

void insert(pqxx::transaction_base& tx, const std::string& token_hash, const std::string& user_id,
            std::chrono::hours ttl);

// The user of a token that exists, is not revoked and has not expired, and how long it
// stays valid.
struct TokenOwner {
    std::string user_id;
    std::chrono::milliseconds valid_for;
};
std::optional<TokenOwner> user_of(pqxx::transaction_base& tx, const std::string& token_hash);

void revoke(pqxx::transaction_base& tx, const std::string& token_hash);

}  // namespace confab::store::tokens
