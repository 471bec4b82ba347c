#include "confab/domain/host_accounts.hpp"

#include "confab/domain/auth_service.hpp"
#include "confab/domain/user_service.hpp"
#include "confab/domain/validation.hpp"
#include "confab/store/pool.hpp"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

namespace confab::domain {
namespace {

// The wanted username when it is a valid one on the first attempt, else "user_" and 10
// random characters of a-z and 0-9.
std::string username_for(const std::optional<std::string>& wanted, int attempt) {
    if (attempt == 0 && wanted && is_valid_username(*wanted)) return *wanted;
    static constexpr std::string_view alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string name = "user_";
    for (int i = 0; i < 10; ++i) name += alphabet[randombytes_uniform(alphabet.size())];
    return name;
}

HostAccount account_of(store::identities::Account account, std::string external_id) {
    return {std::move(account.user), std::move(external_id), account.standing.deactivated_at};
}

}  // namespace

void require_external_id(std::string_view id) {
    if (!is_external_id(id))
        throw bad_request("external_id must be 1-255 bytes of text without control characters", "external_id");
}

HostUser find_or_create(store::Tx& tx, const HostIdentity& identity) {
    if (auto known = store::identities::find(tx, identity.issuer, identity.subject)) return {std::move(*known), false};
    // A taken username (the wanted one, or a generated one by chance) is tried again, generated.
    std::optional<User> created;
    for (int attempt = 0; !created && attempt < 5; ++attempt) {
        const auto username = username_for(identity.username, attempt);
        created = store::users::insert(tx, username, identity.display_name.value_or(username), std::nullopt);
    }
    if (!created) throw std::runtime_error("no free username for a host user");
    if (store::identities::link(tx, identity.issuer, identity.subject, created->id)) {
        spdlog::info("host user created user_id={}", created->id);
        return {{std::move(*created), {}}, true};
    }
    // Another first use of the same subject committed meanwhile: its user is the one.
    store::users::remove(tx, created->id);
    auto linked = store::identities::find(tx, identity.issuer, identity.subject);
    if (!linked) throw std::runtime_error("host identity vanished while being linked");
    return {std::move(*linked), false};
}

boost::asio::awaitable<HostUpsert> HostAccounts::put(std::string external_id, HostUserChange change) {
    require_external_id(external_id);
    if (change.username && !is_valid_username(*change.username))
        throw bad_request("username must be 3-32 characters of a-z, 0-9, _ and .", "username");
    check_profile_change(change.profile);
    HostIdentity identity{issuer_, external_id, change.username, change.profile.display_name};
    auto [host, changed] =
        co_await pool_.run([identity = std::move(identity), profile = change.profile](store::Tx& tx) {
            auto found = find_or_create(tx, identity);
            auto update = store::users::update_profile(tx, found.account.user.id, profile);
            if (!update) throw std::runtime_error("host user vanished while being changed");
            found.account.user = std::move(update->user);
            return std::pair{std::move(found), update->changed};
        });
    if (!host.created && changed) co_await users_.announce(host.account.user);
    co_return HostUpsert{account_of(std::move(host.account), std::move(external_id)), host.created};
}

boost::asio::awaitable<HostAccount> HostAccounts::get(std::string external_id) {
    require_external_id(external_id);
    auto account = co_await pool_.run(
        [this, external_id](store::Tx& tx) { return store::identities::find(tx, issuer_, external_id); });
    if (!account) throw not_found("user");
    co_return account_of(std::move(*account), std::move(external_id));
}

boost::asio::awaitable<HostAccount> HostAccounts::set_active(std::string external_id, bool active) {
    require_external_id(external_id);
    auto account = co_await pool_.run([this, external_id, active](store::Tx& tx) {
        auto account = store::identities::find(tx, issuer_, external_id);
        if (!account) throw not_found("user");
        auto standing = store::users::set_deactivated(tx, account->user.id, !active);
        if (!standing) throw not_found("user");
        account->standing = *standing;
        return std::move(*account);
    });
    if (!active) co_await auth_.sign_out_everywhere(account.user.id);
    spdlog::info("host user {} user_id={}", active ? "reactivated" : "deactivated", account.user.id);
    co_return account_of(std::move(account), std::move(external_id));
}

}  // namespace confab::domain
