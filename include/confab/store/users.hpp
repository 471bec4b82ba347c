#pragma once

#include "confab/model/chat.hpp"
#include "confab/model/list_page.hpp"
#include "confab/model/session.hpp"
#include "confab/model/user.hpp"

#include "confab/store/tx.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

// Repositories are free functions over an open transaction; the Pool decides where and
// when that transaction runs. They return the plain model structs of domain/.
namespace confab::store::users {

void prepare(Tx& tx);

// nullopt when the username is taken. A user without a password hash signs in only through
// the host application (store::identities).
std::optional<model::User> insert(Tx& tx, const std::string& username, const std::string& display_name,
                                  const std::optional<std::string>& password_hash);
void remove(Tx& tx, const std::string& id);

struct Credentials {
    model::User user;
    std::optional<std::string> password_hash;
};
std::optional<Credentials> find_credentials(Tx& tx, const std::string& username);
std::optional<Credentials> credentials_of(Tx& tx, const std::string& id);
void set_password_hash(Tx& tx, const std::string& id, const std::string& password_hash);

std::optional<model::User> find(Tx& tx, const std::string& id);

// Users whose username or display name starts with `prefix`, case-insensitively, ordered
// by username, after `after_username` when given.
std::vector<model::User> search(Tx& tx, const std::string& prefix, const std::optional<std::string>& after_username,
                                int limit);

// The ids among `ids` that belong to users.
std::vector<std::string> existing(Tx& tx, const std::vector<std::string>& ids);

// Each of `ids` that is a user, with who may add them to groups without asking.
std::unordered_map<std::string, model::Circle> add_policies(Tx& tx, const std::vector<std::string>& ids);
std::optional<model::Privacy> privacy(Tx& tx, const std::string& id);

// A user's presence, and the settings that decide who may see it.
struct PresenceOf {
    model::Privacy privacy;
    model::Presence presence;
};
// Each of `ids` that is a user: one query, however many.
std::unordered_map<std::string, PresenceOf> presence_of(Tx& tx, const std::vector<std::string>& ids);
// Applies the change; the settings after it, or nullopt when there is no such user.
std::optional<model::Privacy> update_privacy(Tx& tx, const std::string& id, const model::PrivacyChange& change);
struct ProfileUpdate {
    model::User user;  // after the change
    bool changed;      // false when every field given already had its value: nothing was written
};
// Applies the change; nullopt when there is no such user.
std::optional<ProfileUpdate> update_profile(Tx& tx, const std::string& id, const model::ProfileChange& change);

// The media of the user's avatar, the user's row locked until the transaction ends; nullopt
// when they have no avatar.
std::optional<std::string> lock_avatar(Tx& tx, const std::string& id);
// Sets the user's avatar (none when `media_id` is nullopt) and the URL shown for it; the user
// after it, or nullopt when there is no such user.
std::optional<model::User> set_avatar(Tx& tx, const std::string& id, const std::optional<std::string>& media_id,
                                      const std::optional<std::string>& url);

// Whether the host backend has deactivated the user (docs/api.md, Server API).
struct Standing {
    std::optional<model::Timestamp> deactivated_at;
};
// nullopt when there is no such user, or it is deleted: nobody acts as a deleted account.
std::optional<Standing> standing(Tx& tx, const std::string& id);
// Deactivates (keeping the first time) or reactivates; nullopt when there is no such user.
std::optional<Standing> set_deactivated(Tx& tx, const std::string& id, bool deactivated);

// Stamps the user's last_seen_at now; the time as stored (none when no such user).
std::optional<model::Timestamp> touch_last_seen(Tx& tx, const std::string& id);

}  // namespace confab::store::users

// Users of the host application: the (issuer, subject) of their tokens names one Confab user.
namespace confab::store::identities {

void prepare(Tx& tx);

struct Account {
    model::User user;
    users::Standing standing;
};
std::optional<Account> find(Tx& tx, const std::string& issuer, const std::string& subject);
// false when (issuer, subject) is linked already (a concurrent first sign-in got there first).
bool link(Tx& tx, const std::string& issuer, const std::string& subject, const std::string& user_id);

}  // namespace confab::store::identities

namespace confab::store::tokens {

void prepare(Tx& tx);

struct NewToken {
    std::string token_hash;
    std::string user_id;
    std::chrono::hours ttl;
    std::optional<std::string> device_name;
    std::string address;
    // A password sign-in's: the hash the password was verified against, which must still be
    // the user's (a password changed meanwhile ends the sessions of the old one).
    std::optional<std::string> password_hash;
};
enum class Issue {
    issued,
    deactivated,  // nothing stored: the host backend deactivated the user
    stale,        // nothing stored: the user is deleted (or none), or the password changed
};
// Stores the token unless the user may not sign in (any more). It serializes with
// revocations, which lock the user's row first: a token that one of them may have missed is
// never stored.
Issue insert(Tx& tx, const NewToken& token);

struct Owner {
    std::string user_id;
    model::Timestamp expires_at;
};
// The owner of a token that exists, is not revoked and has not expired.
std::optional<Owner> owner_of(Tx& tx, const std::string& token_hash);

// Sliding expiry: a token last renewed more than `interval` ago is renewed for `ttl` from now,
// with `address` and the time of this use recorded.
struct Renewal {
    std::chrono::hours ttl;
    std::chrono::seconds interval;
    std::string address;
};
// owner_of, renewing the token as it is used; expires_at is the renewed expiry.
std::optional<Owner> use(Tx& tx, const std::string& token_hash, const Renewal& renewal);

void revoke(Tx& tx, const std::string& token_hash);
// Revokes every live token of the user but `keep` (none when empty), the user's row locked
// first so that no token issued meanwhile (insert) escapes it.
void revoke_all(Tx& tx, const std::string& user_id, const std::string& keep);
// Revokes the user's live session `session_id` (a uuid) and returns its token hash; nullopt
// when the user has no such live session.
std::optional<std::string> revoke_session(Tx& tx, const std::string& user_id, const std::string& session_id);

// The user's live sessions, most recently used first (last_used_at, then id, descending), after
// `after` when given, at most `limit`, each with its place (the next page's `after`);
// `current_hash` marks the caller's.
std::vector<std::pair<model::Session, model::ListPlace>> sessions(Tx& tx, const std::string& user_id,
                                                                  const std::string& current_hash,
                                                                  const std::optional<model::ListPlace>& after,
                                                                  int limit);

}  // namespace confab::store::tokens
