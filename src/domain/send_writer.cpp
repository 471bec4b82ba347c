#include "confab/domain/send_writer.hpp"

#include "confab/domain/group_writes.hpp"
#include "confab/domain/rich_text.hpp"
#include "confab/domain/rules.hpp"
#include "confab/domain/templates.hpp"
#include "confab/domain/validation.hpp"
#include "confab/obs/metrics.hpp"
#include "confab/store/chats.hpp"
#include "confab/store/media.hpp"
#include "confab/store/mentions.hpp"
#include "confab/store/messages.hpp"
#include "confab/store/polls.hpp"
#include "confab/store/templates.hpp"

#include <array>
#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>

namespace confab::domain {
namespace {

// One counter per message type, looked up once: no lock per message.
void count_sent(MessageType type) {
    static const auto counters = [] {
        constexpr int types = static_cast<int>(MessageType::poll) + 1;
        std::array<obs::Counter*, types> all{};
        for (int t = 0; t < types; ++t)
            all[static_cast<std::size_t>(t)] =
                &obs::metrics().messages_sent.with({std::string(to_string(static_cast<MessageType>(t)))});
        return all;
    }();
    counters[static_cast<std::size_t>(type)]->inc();
}

// Slow mode holds back a member's own posts, not those the host application's backend makes
// on their behalf.
bool held_by_slow_mode(const SendMessage& m, const Standing& sender) {
    return !m.by_host_backend && rules::slowed(sender);
}

}  // namespace

// The checks of a send that read other rows: its reply, its thread root and its upload.
// `claimed` holds the uploads of the batch's earlier sends, so one upload is attached once.
void check_references(store::Tx& tx, const SendMessage& m, std::unordered_set<std::string>& claimed) {
    // A message the sender hid no longer exists for them: it is neither quoted nor replied to.
    std::optional<store::messages::Quoted> quoted;
    if (m.reply_to_id) {
        quoted = store::messages::quoted(tx, *m.reply_to_id, m.sender_id);
        if (!quoted || quoted->chat_id != m.chat_id)
            throw bad_request("reply_to_id must be a message of the same chat", "reply_to_id");
    }
    if (m.thread_root_id) {
        const auto root = store::messages::find(tx, *m.thread_root_id, "");
        if (!root || root->chat_id != m.chat_id || store::messages::is_hidden(tx, root->id, m.sender_id))
            throw bad_request("thread_root_id must be a message of the same chat", "thread_root_id");
        rules::may_reply_in_thread(*root);
        if (quoted) rules::may_quote_in_thread(root->id, *m.reply_to_id, quoted->thread_root_id);
    }
    if (!m.media_id) return;
    const auto media = store::media::find(tx, *m.media_id);
    if (!media || media->uploader_id != m.sender_id || media->chat_id != m.chat_id ||
        to_string(media->kind) != to_string(m.type))
        throw bad_request("media_id must be your upload of this kind to this chat", "media_id");
    if (media->attached || !claimed.insert(*m.media_id).second)
        throw conflict("this upload is already attached to a message");
}

bool check_slow_mode(store::Tx& tx, const std::string& chat_id, const std::string& sender, const Standing& standing) {
    if (!rules::slowed(standing)) return false;
    const auto last = store::members::last_posts(tx, {{chat_id, sender}});
    const auto found = last.at.find({chat_id, sender});
    rules::may_post_after(standing, found == last.at.end() ? std::nullopt : std::optional(found->second), last.now);
    return true;
}

bool needs_content(MessageType type) { return type == MessageType::text; }

namespace {

void check_content_chars(std::size_t length, bool required, std::size_t limit) {
    if (required && length == 0) throw bad_request("content must not be empty", "content");
    if (length > limit)
        throw Error(ErrorCode::payload_too_large, "content is longer than " + std::to_string(limit) + " characters",
                    "content");
}

}  // namespace

void check_content(const std::string& content, bool required, std::size_t limit) {
    check_content_chars(code_points(content), required, limit);
}

std::string filled_template(store::Tx& tx, const SendMessage& m, std::size_t content_chars) {
    const auto& use = *m.from_template;
    const auto stored = store::templates::find(tx, use.template_id);
    const bool usable =
        stored && (stored->owner_id ? *stored->owner_id == m.sender_id : stored->value.chat_id == m.chat_id);
    if (!usable) throw not_found("template");
    check_content_chars(templates::filled_chars(stored->value.content, use.values), needs_content(m.type),
                        content_chars);
    return templates::fill(stored->value.content, use.values);
}

std::vector<std::string> mentioned_members(const ChatAccess& access, const std::string& sender,
                                           const std::vector<TextEntity>& entities, bool non_members_passed_over) {
    auto mentions = rich_text::mentions_in(entities);
    if (mentions.empty()) return {};
    const auto not_a_member = [&access](const std::string& user) { return !access.members.contains(user); };
    if (non_members_passed_over) {
        std::erase_if(mentions.users, not_a_member);
    } else if (std::any_of(mentions.users.begin(), mentions.users.end(), not_a_member)) {
        throw bad_request("a mention must name a member of the chat", "entities");
    }
    std::vector<std::string> mentioned;
    if (mentions.everyone) {
        rules::may_mention_all(standing_in(&access, sender));
        mentioned.reserve(access.members.size());
        for (const auto& [member, role] : access.members) mentioned.push_back(member);
    } else {
        mentioned = mentions.users;
    }
    std::erase(mentioned, sender);
    return mentioned;
}

void tell_mentioned(Effects& effects, const Message& message, std::vector<std::string> mentioned) {
    if (mentioned.empty()) return;
    effects.in_chat(Occasion::mentioned, MentionCreated{message.chat_id, message.id, message.sender_id, message.seq},
                    message.chat_id, {.actor = message.sender_id.value_or(""), .mentioned = std::move(mentioned)});
}

// Each send gets what it would get alone, in the batch's order: not_found when its chat is
// gone or its sender is no longer a member, the stored message for a repeated client_id
// (also one repeated within the batch), and the check errors of its reply and upload.
std::vector<SendWriter::Entry> SendWriter::write(store::Tx& tx, std::span<const SendMessage* const> sends) {
    std::vector<std::optional<Entry>> entries(sends.size());
    const auto refuse = [&entries](std::size_t i, const Error& error) { entries[i] = std::make_exception_ptr(error); };

    std::vector<std::string> chat_ids;
    std::vector<store::messages::ClientKey> sent_keys;
    for (const auto* send : sends) {
        chat_ids.push_back(send->chat_id);
        if (send->client_id) sent_keys.push_back({send->sender_id, *send->client_id});
    }
    const auto locks = store::messages::lock_for_sends(tx, chat_ids, sent_keys);
    const auto& locked = locks.chats;

    std::unordered_map<std::string, std::shared_ptr<const ChatAccess>> access;  // per chat of the batch
    std::unordered_map<std::string, AccessCache::Seen> loaded;                  // to cache once committed
    // The sender's standing in the send's chat; nullopt (the send refused) for a non-member.
    const auto standing = [&](std::size_t i) -> std::optional<Standing> {
        const auto& m = *sends[i];
        auto [known, added] = access.try_emplace(m.chat_id);
        if (added) {
            auto seen = cache_.seen_in(tx, m.chat_id, locked.at(m.chat_id));
            known->second = seen.access;
            if (seen.loaded) loaded.emplace(m.chat_id, std::move(seen));
        }
        try {
            return standing_in(known->second.get(), m.sender_id);
        } catch (const Error& error) {
            refuse(i, error);
            return std::nullopt;
        }
    };

    // A repeated client_id is answered with the stored message before the rules of posting are
    // asked (PROTOCOL.md): a sender who may no longer post (only admins may now, muted,
    // restricted, slow mode) still learns that the send they repeat was stored. Only a member
    // is answered at all: for anyone else the chat does not exist.
    std::vector<std::optional<Standing>> senders(sends.size());
    std::map<std::pair<std::string, std::string>, std::size_t> first_with_key;  // (sender, client_id)
    std::vector<std::optional<std::size_t>> repeat_of(sends.size());
    std::vector<store::messages::ClientKey> keys;
    for (std::size_t i = 0; i < sends.size(); ++i) {
        const auto& m = *sends[i];
        if (!locked.contains(m.chat_id)) {
            refuse(i, not_found("chat"));
            continue;
        }
        senders[i] = standing(i);
        if (!senders[i] || !m.client_id) continue;
        const auto [first, inserted] = first_with_key.try_emplace({m.sender_id, *m.client_id}, i);
        if (inserted) {
            keys.push_back({m.sender_id, *m.client_id});
        } else {
            repeat_of[i] = first->second;
        }
    }
    if (locks.repeated && !keys.empty()) {
        for (auto& stored : store::messages::find_by_client_ids(tx, keys)) {
            const auto i = first_with_key.at({stored.sender_id.value_or(""), stored.client_id.value_or("")});
            if (stored.chat_id != sends[i]->chat_id) {
                refuse(i, conflict("client_id was used in another chat"));
            } else {
                entries[i] = Outcome<Sent>{{std::move(stored), false}, {}};
            }
        }
    }
    for (std::size_t i = 0; i < sends.size(); ++i) {
        if (entries[i] || repeat_of[i]) continue;
        try {
            rules::may_post(*senders[i], sends[i]->type);
        } catch (const Error& error) {
            refuse(i, error);
        }
    }

    // The senders slow mode holds back, with their last posts: a send too soon is refused
    // before it takes a seq, and one let through counts for the batch's later sends.
    std::vector<store::members::Poster> slowed;
    for (std::size_t i = 0; i < sends.size(); ++i) {
        const auto& m = *sends[i];
        if (!entries[i] && !repeat_of[i] && held_by_slow_mode(m, standing_in(access.at(m.chat_id).get(), m.sender_id)))
            slowed.push_back({m.chat_id, m.sender_id});
    }
    auto last_posts = slowed.empty() ? store::members::LastPosts{} : store::members::last_posts(tx, slowed);
    std::vector<store::members::Poster> posted;

    std::unordered_set<std::string> claimed_media;
    std::vector<std::size_t> inserted;
    std::vector<store::NewMessage> batch;
    std::vector<std::vector<std::string>> mentioned;  // per message of the batch
    for (std::size_t i = 0; i < sends.size(); ++i) {
        if (entries[i] || repeat_of[i]) continue;
        const auto& m = *sends[i];
        std::string content;
        std::vector<std::string> mentions;
        const auto sender = standing_in(access.at(m.chat_id).get(), m.sender_id);
        const bool slow = held_by_slow_mode(m, sender);
        const std::pair poster{m.chat_id, m.sender_id};
        try {
            if (slow) {
                const auto last = last_posts.at.find(poster);
                rules::may_post_after(sender, last == last_posts.at.end() ? std::nullopt : std::optional(last->second),
                                      last_posts.now);
            }
            check_references(tx, m, claimed_media);
            content = m.from_template ? filled_template(tx, m, content_chars_) : m.content;
            if (!m.entities.empty())
                mentions = mentioned_members(*access.at(m.chat_id), m.sender_id, m.entities, m.mentions_checked_before);
        } catch (const Error& error) {
            refuse(i, error);
            continue;
        }
        if (slow) {
            last_posts.at.insert_or_assign(poster, last_posts.now);
            posted.push_back({m.chat_id, m.sender_id});
        }
        inserted.push_back(i);
        mentioned.push_back(std::move(mentions));
        batch.push_back({m.chat_id, m.sender_id, m.type, std::move(content), m.reply_to_id, m.metadata.text,
                         m.client_id, m.media_id, m.thread_root_id, m.entities});
    }
    // Who deleted a direct chat of the batch from their list: the insert shows it to them again.
    std::map<std::string, std::vector<std::string>> shown_again;  // chat id -> users
    for (const auto i : inserted) {
        const auto& chat_id = sends[i]->chat_id;
        if (!shown_again.contains(chat_id))
            shown_again.emplace(chat_id, shown_again_by_next_message(tx, access.at(chat_id)->type, chat_id));
    }
    std::vector<std::optional<Message>> stored;
    try {
        if (!batch.empty()) stored = store::messages::insert(tx, batch);
    } catch (const store::Duplicate&) {
        // The same client_id, stored by another transaction since this one looked: run again,
        // it is a repeat (200) or, sent to another chat, a conflict.
        throw store::RaceLost("a client_id stored meanwhile");
    }
    store::members::set_posted(tx, posted);
    struct Thread {
        std::string root_id, chat_id;
        std::vector<std::string> repliers;  // the senders of the batch's replies, in order
    };
    std::vector<Thread> threads;                 // in the order of their first reply
    std::map<std::string, std::size_t> last_in;  // chat id -> the batch's last message stored in it
    for (std::size_t k = 0; k < inserted.size(); ++k) {
        const auto i = inserted[k];
        auto& message = stored[k];
        if (!message) {
            refuse(i, not_found("chat"));
            continue;
        }
        if (message->media) {
            store::media::mark_attached(tx, message->media->id);
            message->media->attached = true;
        }
        if (const auto& poll = sends[i]->poll)
            message->poll = store::polls::insert(tx, message->id, message->content, *poll);
        if (const auto& root_id = message->thread_root_id) {
            auto thread = std::find_if(threads.begin(), threads.end(),
                                       [&root_id](const Thread& t) { return t.root_id == *root_id; });
            if (thread == threads.end()) thread = threads.insert(threads.end(), {*root_id, message->chat_id, {}});
            thread->repliers.push_back(sends[i]->sender_id);
        }
        last_in[message->chat_id] = i;
        Outcome<Sent> outcome;
        if (const auto hid = shown_again.find(message->chat_id); hid != shown_again.end()) {
            announce_shown_again(tx, outcome.effects, message->chat_id, hid->second);
            shown_again.erase(hid);  // with the chat's first message of the batch
        }
        outcome.effects.in_chat(Occasion::message_created, MessageCreated{*message}, message->chat_id);
        if (!mentioned[k].empty()) {
            store::mentions::add(tx, *message, mentioned[k]);
            tell_mentioned(outcome.effects, *message, std::move(mentioned[k]));
        }
        count_sent(message->type);
        outcome.value = {std::move(*message), true};
        entries[i] = std::move(outcome);
    }
    // Each root takes one version for all the batch's replies to it, after every message the
    // batch stored, and open clients get its new summary once, after the chat's last message of
    // the batch: so live events keep version order, with no version skipped between them.
    for (const auto& thread : threads) {
        const auto version = store::messages::next_version(tx, thread.chat_id);
        for (const auto& replier : thread.repliers)
            store::messages::add_thread_reply(tx, thread.root_id, replier, version);
        const auto last = last_in.at(thread.chat_id);
        std::get<Outcome<Sent>>(*entries[last])
            .effects.in_chat(Occasion::message_updated, MessageUpdated{*store::messages::find(tx, thread.root_id, "")},
                             thread.chat_id);
    }

    for (std::size_t i = 0; i < sends.size(); ++i) {
        if (!repeat_of[i]) continue;
        const auto first = *repeat_of[i];
        if (sends[first]->chat_id != sends[i]->chat_id) {
            refuse(i, conflict("client_id was used in another chat"));
        } else if (const auto* outcome = std::get_if<Outcome<Sent>>(&*entries[first])) {
            entries[i] = Outcome<Sent>{{outcome->value.message, false}, {}};
        } else {
            entries[i] = entries[first];
        }
    }

    // A chat's access this batch loaded is cached by the first of its sends to be published.
    for (auto& entry : entries) {
        auto* outcome = std::get_if<Outcome<Sent>>(&*entry);
        if (!outcome || loaded.empty()) continue;
        const auto chat = loaded.find(outcome->value.message.chat_id);
        if (chat == loaded.end()) continue;
        outcome->effects.keep_seen(chat->first, chat->second);
        loaded.erase(chat);
    }

    std::vector<Entry> answered;
    answered.reserve(entries.size());
    for (auto& entry : entries) answered.push_back(std::move(*entry));
    return answered;
}

}  // namespace confab::domain
