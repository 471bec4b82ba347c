#pragma once

#include "confab/config/config.hpp"
#include "confab/domain/commit.hpp"
#include "confab/domain/model.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>

namespace confab::media {
class Storage;
}

namespace confab::domain {

class AuthService;
class ExportService;
class MemberService;

// Deleting an account (docs/api.md, Deleting the account): the account is deleted first, in
// one transaction with the end of its sessions (store::accounts::begin_deletion), so that no
// request racing the steps after it acts as the account or puts it back anywhere; then the
// user leaves their groups as
// any member leaves; their messages stay as from a deleted user, or their content is removed
// (auth.deleted_user_messages); the profile, credentials, sessions (their sockets closed),
// exports and the media no message references any more go, and the user becomes a tombstone.
// What others keep that names the user (a pin, a forward, a report, a ban, an invite link, a
// webhook, an invitation) names nobody (null) from then on. The user's bots are deleted with
// them.
class AccountService {
public:
    AccountService(ChatWrites& writes, AuthService& auth, MemberService& members, ExportService& exports,
                   media::Storage& storage, const config::Auth& settings)
        : writes_(writes),
          auth_(auth),
          members_(members),
          exports_(exports),
          storage_(storage),
          remove_messages_(settings.deleted_user_messages == "remove") {}

    // `password` confirms it (rules::may_delete_account); `client` is the caller's address.
    boost::asio::awaitable<void> delete_account(Principal principal, std::optional<std::string> password,
                                                std::string client);

    // Deletes a bot (docs/api.md, Bots) as an account is deleted, without a confirmation: its
    // owner asked.
    boost::asio::awaitable<void> delete_bot(std::string bot_id);

    // Carries on, in the background, each deletion a stopped server (a crash, kill -9) left
    // between its steps: the account is deleted from the first step on, so nothing but this
    // would ever finish it. Every step finds what is left for it to do, so one that another
    // node of a cluster is still running ends the same, its events at worst sent twice.
    void resume_deletions(const boost::asio::any_io_executor& executor);

private:
    boost::asio::awaitable<void> resume();
    // The first step of a deletion (store::accounts::begin_deletion): true when this call marked
    // the account deleted, and so carries out the rest (erase); false when it was already.
    boost::asio::awaitable<bool> mark_deleted(const std::string& user_id);
    // The steps after the first, for an account marked deleted.
    boost::asio::awaitable<void> erase(const std::string& user_id);
    boost::asio::awaitable<void> leave_shared_chats(const std::string& user_id);
    // Deletes, for everyone, the user's messages in every chat, each chat's in one write.
    boost::asio::awaitable<void> remove_messages(const std::string& user_id);
    // Names the user no more in others' messages (a pin's pinned_by, a forward's sender), each
    // chat's in one write that takes its next version and sends message.updated, so that sync
    // and the history cache, which go by versions, carry the change.
    boost::asio::awaitable<void> forget_in_messages(const std::string& user_id);

    ChatWrites& writes_;
    AuthService& auth_;
    MemberService& members_;
    ExportService& exports_;
    media::Storage& storage_;
    bool remove_messages_;
};

}  // namespace confab::domain
