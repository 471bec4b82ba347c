#pragma once

#include "confab/domain/model.hpp"
#include "confab/store/users.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>

namespace confab::store {
class Pool;
}

namespace confab::domain {

class AuthService;
class UserService;

// A user of the host application, named by the issuer's subject (its user id there).
struct HostIdentity {
    std::string issuer;
    std::string subject;
    std::optional<std::string> username;      // wanted at creation; taken or invalid: generated
    std::optional<std::string> display_name;  // at creation; the username when absent
};

struct HostUser {
    store::identities::Account account;
    bool created = false;
};

// The user the identity names, created and linked when it names none yet. Shared by the
// first sign-in with a host token and the server API, so both reach the same user.
HostUser find_or_create(store::Tx& tx, const HostIdentity& identity);

// What the server API shows of a host user (docs/api.md, Server API).
struct HostAccount {
    User user;
    std::string external_id;
    std::optional<Timestamp> deactivated_at;
};

struct HostUpsert {
    HostAccount account;
    bool created = false;
};

// The fields of PUT /server/users/{external_id}; username only counts at creation.
struct HostUserChange {
    std::optional<std::string> username;
    ProfileChange profile;
};

// The host backend's management of its users, keyed by their id in the host application
// (the subject of its tokens, under jwt.issuer).
class HostAccounts {
public:
    HostAccounts(store::Pool& pool, AuthService& auth, UserService& users, std::string issuer)
        : pool_(pool), auth_(auth), users_(users), issuer_(std::move(issuer)) {}

    // Creates the user as their first sign-in would, or changes their profile; an existing
    // user's contacts get user.updated.
    boost::asio::awaitable<HostUpsert> put(std::string external_id, HostUserChange change);
    // Throws Error{not_found}.
    boost::asio::awaitable<HostAccount> get(std::string external_id);
    // Deactivating signs the user out everywhere (their sockets close) and refuses their
    // sign-ins until they are reactivated. Throws Error{not_found}.
    boost::asio::awaitable<HostAccount> set_active(std::string external_id, bool active);

private:
    store::Pool& pool_;
    AuthService& auth_;
    UserService& users_;
    std::string issuer_;
};

// Throws bad_request unless `id` could be a host user id: 1-255 bytes of plain text.
void require_external_id(std::string_view id);

}  // namespace confab::domain
